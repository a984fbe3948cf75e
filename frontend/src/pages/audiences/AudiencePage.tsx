import { Alert, Anchor, Badge, Breadcrumbs, Button, Group, Modal, Stack, Text, Textarea, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconClipboardText, IconDownload, IconFileImport, IconTrash } from "@tabler/icons-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { type AddContactsOut, type ContactIn, downloadAudience, useAddContacts, useAudience, useRemoveContacts } from "../../api/audiences";
import { describeError } from "../../api/problem";
import { useConfirm } from "../../components/Confirm";
import { ErrorState, LoadingState } from "../../components/States";
import { num } from "../../lib/format";
import { parsePasted } from "../../lib/pasteTargets";
import { ImportWizard } from "../task/ImportWizard";
import { useRemoveAudience } from "./AudiencesPage";
import { ContactsTable } from "./ContactsTable";

/** One audience: its contacts (filtered, removable), import from a file, add by paste, export. */
export function AudiencePage() {
  const { t } = useTranslation("audiences");
  const { audienceId = "" } = useParams();
  const navigate = useNavigate();
  const audience = useAudience(audienceId);
  const [importing, setImporting] = useState(false);
  const [pasting, setPasting] = useState(false);
  const confirm = useConfirm();
  const removeContacts = useRemoveContacts(audienceId);
  const { remove: removeAudience, banner } = useRemoveAudience(() => navigate("/audiences"));
  const name = audience.data?.name;
  useEffect(() => {
    if (name) document.title = `${name} · Invite Service`;
  }, [name]);

  if (audience.isPending) return <LoadingState />;
  if (audience.isError) return <ErrorState error={audience.error} onRetry={() => void audience.refetch()} title={t("load_failed_one")} />;
  const a = audience.data;

  const onRemove = async (ids: number[], done: () => void) => {
    if (!(await confirm({ title: t("remove.title", { count: ids.length, n: num(ids.length) }), message: t("remove.body"), confirmLabel: t("remove.button"), color: "red" })))
      return;
    try {
      const out = await removeContacts.mutateAsync(ids);
      notifications.show({ color: "teal", message: t("remove.done", { count: out.removed, n: num(out.removed) }) });
      done();
    } catch (err) {
      notifications.show({ color: "red", title: t("remove.failed"), message: describeError(err) });
    }
  };

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/audiences">
          {t("title")}
        </Anchor>
        <Text>{a.name}</Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Group gap="xs">
            <Title order={1} size="h2" data-testid="audience-name">
              {a.name}
            </Title>
            <Badge variant="light">{t(`platform.${a.platform}`, { defaultValue: a.platform })}</Badge>
          </Group>
          <Text c="dimmed" size="sm" data-testid="audience-count">
            {t("contacts_count", { count: a.contacts, n: num(a.contacts) })}
            {a.description ? ` · ${a.description}` : ""}
          </Text>
        </div>
        <Group gap="xs" wrap="wrap">
          <Button leftSection={<IconFileImport size={16} />} onClick={() => setImporting(true)} data-testid="audience-import">
            {t("import.open")}
          </Button>
          <Button variant="default" leftSection={<IconClipboardText size={16} />} onClick={() => setPasting(true)}>
            {t("paste.open")}
          </Button>
          <Button
            variant="default"
            leftSection={<IconDownload size={16} />}
            onClick={() => void downloadAudience(a).catch((err: unknown) => notifications.show({ color: "red", title: t("export.failed"), message: describeError(err) }))}
          >
            {t("export.button")}
          </Button>
          <Button variant="subtle" color="red" leftSection={<IconTrash size={16} />} onClick={() => void removeAudience(a)}>
            {t("delete.button")}
          </Button>
        </Group>
      </Group>
      {banner}
      <ContactsTable audienceId={a.id} onRemove={(ids, done) => void onRemove(ids, done)} removing={removeContacts.isPending} />
      <ImportWizard audienceId={a.id} opened={importing} onClose={() => setImporting(false)} />
      <PasteContacts audienceId={a.id} opened={pasting} onClose={() => setPasting(false)} />
    </Stack>
  );
}

/** Pasted lines (`identity[, first name[, last name]]`) with tags for all of them, added to the audience. */
function PasteContacts({ audienceId, opened, onClose }: { audienceId: string; opened: boolean; onClose: () => void }) {
  const { t } = useTranslation("audiences");
  const [text, setText] = useState("");
  const [tags, setTags] = useState("");
  const [result, setResult] = useState<AddContactsOut | null>(null);
  const [error, setError] = useState<string | null>(null);
  const add = useAddContacts(audienceId);
  const rows = parsePasted(text).filter((r) => !r.problem);

  async function submit() {
    setError(null);
    const tagList = tags.split(",").map((x) => x.trim()).filter(Boolean);
    const contacts: ContactIn[] = rows.map((r) => ({ ...r.body, tags: tagList }));
    try {
      const out = await add.mutateAsync({ contacts });
      setResult(out);
      if (out.rejected.length === 0) {
        notifications.show({ color: "teal", message: t("paste.done", { count: out.added, n: num(out.added) }) });
        setText("");
        onClose();
      }
    } catch (err) {
      setError(describeError(err));
    }
  }

  return (
    <Modal opened={opened} onClose={onClose} title={t("paste.title")} size="lg">
      <Stack>
        <Textarea
          label={t("paste.label")}
          description={t("paste.help")}
          autosize
          minRows={6}
          maxRows={14}
          value={text}
          onChange={(e) => {
            setText(e.currentTarget.value);
            setResult(null);
          }}
          className="mono"
        />
        <TextInput label={t("paste.tags")} placeholder="vip, webinar-2026" value={tags} onChange={(e) => setTags(e.currentTarget.value)} />
        {result && result.rejected.length > 0 && (
          <Alert color="yellow" title={t("paste.partly", { added: num(result.added), rejected: num(result.rejected.length) })}>
            {result.rejected.slice(0, 10).map((r) => (
              <Text size="xs" key={r.index}>
                {t("paste.row", { row: r.index + 1, msg: r.msg })}
              </Text>
            ))}
          </Alert>
        )}
        {error && (
          <Text c="red" size="sm" role="alert">
            {error}
          </Text>
        )}
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            {t("paste.count", { count: rows.length, n: num(rows.length) })}
          </Text>
          <Group gap="xs">
            <Button variant="default" onClick={onClose}>
              {t("cancel")}
            </Button>
            <Button onClick={() => void submit()} disabled={rows.length === 0} loading={add.isPending}>
              {t("paste.submit")}
            </Button>
          </Group>
        </Group>
      </Stack>
    </Modal>
  );
}
