import { ActionIcon, Alert, Anchor, Button, Card, Group, Modal, Paper, Select, Skeleton, Stack, Table, Text, Textarea, TextInput, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconPlus, IconTrash, IconUsersGroup } from "@tabler/icons-react";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { type Audience, type Platform, useAudiences, useCreateAudience, useDeleteAudience } from "../../api/audiences";
import { useMeta } from "../../api/notifications";
import { ApiError, describeError, fieldErrors } from "../../api/problem";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime, num } from "../../lib/format";

const PAGE_SIZE = 50;
export const AUDIENCE_PLATFORMS: Platform[] = ["telegram", "sandbox"];

/** The user's reusable audiences: named sets of contacts that tasks include or exclude. */
export function AudiencesPage() {
  const { t } = useTranslation("audiences");
  const [creating, setCreating] = useState(false);
  const pages = useCursorStack("all");
  const list = useAudiences(null, pages.cursor, PAGE_SIZE);
  const items = list.data?.items ?? [];
  const isPhone = useMediaQuery("(max-width: 48em)");
  const { remove, banner } = useRemoveAudience();

  const link = (a: Audience) => (
    <Anchor component={Link} to={`/audiences/${a.id}`} fw={500} style={{ overflowWrap: "anywhere" }}>
      {a.name}
    </Anchor>
  );
  const del = (a: Audience) => (
    <ActionIcon variant="subtle" color="red" aria-label={t("delete.label", { name: a.name })} onClick={() => void remove(a)}>
      <IconTrash size={16} />
    </ActionIcon>
  );

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={1} size="h2">
            {t("title")}
          </Title>
          <Text c="dimmed" size="sm">
            {t("intro")}
          </Text>
        </div>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)} data-testid="new-audience">
          {t("create.open")}
        </Button>
      </Group>
      {banner}
      {list.isPending ? (
        <Skeleton height={160} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title={t("load_failed")} />
      ) : items.length === 0 ? (
        <EmptyState icon={<IconUsersGroup size={24} />} title={t("empty.title")}>
          {t("empty.body")}
        </EmptyState>
      ) : isPhone ? (
        <Stack gap="xs" data-testid="audiences-cards">
          {items.map((a) => (
            <Card key={a.id} withBorder radius="md" padding="sm">
              <Group justify="space-between" wrap="nowrap" align="flex-start">
                <div style={{ minWidth: 0 }}>{link(a)}</div>
                {del(a)}
              </Group>
              <Text size="xs" c="dimmed">
                {t(`platform.${a.platform}`, { defaultValue: a.platform })} · {t("contacts_count", { count: a.contacts, n: num(a.contacts) })} · {dateTime(a.created_at)}
              </Text>
            </Card>
          ))}
        </Stack>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table verticalSpacing="xs" data-testid="audiences-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("col.name")}</Table.Th>
                <Table.Th>{t("col.platform")}</Table.Th>
                <Table.Th ta="right">{t("col.contacts")}</Table.Th>
                <Table.Th>{t("col.created")}</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>
                    {link(a)}
                    {a.description && (
                      <Text size="xs" c="dimmed">
                        {a.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{t(`platform.${a.platform}`, { defaultValue: a.platform })}</Table.Td>
                  <Table.Td ta="right">{num(a.contacts)}</Table.Td>
                  <Table.Td>{dateTime(a.created_at)}</Table.Td>
                  <Table.Td>{del(a)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun={t("noun")} />
      <CreateAudience opened={creating} onClose={() => setCreating(false)} />
    </Stack>
  );
}

/**
 * Confirms and deletes; a refusal stays on the page (`problem`) until closed: a 409 `audience_in_use` says
 * which tasks hold it (not finished yet) and what to do.
 */
export function useRemoveAudience(onDeleted?: () => void) {
  const { t } = useTranslation("audiences");
  const confirm = useConfirm();
  const del = useDeleteAudience();
  const [problem, setProblem] = useState<string | null>(null);
  const remove = async (a: Pick<Audience, "id" | "name">) => {
    if (!(await confirm({ title: t("delete.title", { name: a.name }), message: t("delete.body"), confirmLabel: t("delete.button"), color: "red" }))) return;
    setProblem(null);
    try {
      await del.mutateAsync(a.id);
      notifications.show({ color: "teal", message: t("delete.done", { name: a.name }) });
      onDeleted?.();
    } catch (err) {
      setProblem(err instanceof ApiError && err.status === 409 ? t("delete.in_use") : describeError(err));
    }
  };
  const banner = problem && (
    <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t("delete.failed")} withCloseButton onClose={() => setProblem(null)} role="alert" data-testid="delete-problem">
      {problem}
    </Alert>
  );
  return { remove, banner };
}

function CreateAudience({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { t } = useTranslation("audiences");
  const navigate = useNavigate();
  const create = useCreateAudience();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  // The platforms this service offers (GET /meta), the first one chosen; both without /meta.
  const meta = useMeta().data?.platforms as string[] | undefined;
  const offered = AUDIENCE_PLATFORMS.filter((p) => meta?.includes(p) ?? true);
  const platforms = offered.length ? offered : AUDIENCE_PLATFORMS;
  const [chosen, setPlatform] = useState<Platform | null>(null);
  const platform = chosen && platforms.includes(chosen) ? chosen : (platforms[0] ?? "telegram");
  const [errors, setErrors] = useState<Record<string, string>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setErrors({ name: t("create.name_required") });
      return;
    }
    setErrors({});
    try {
      const a = await create.mutateAsync({ platform, name: name.trim(), description: description.trim() || null });
      setName("");
      setDescription("");
      onClose();
      navigate(`/audiences/${a.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setErrors({ name: t("create.name_taken") });
        return;
      }
      const { fields, unplaced } = fieldErrors(err, (p) => ["name", "platform", "description"].includes(p));
      setErrors({ ...fields, ...(unplaced.length ? { form: unplaced.join("; ") } : {}) });
    }
  }

  return (
    <Modal opened={opened} onClose={onClose} title={t("create.title")} centered>
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label={t("create.name")} withAsterisk value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name || null} data-autofocus />
          <Select
            label={t("create.platform")}
            data={platforms.map((p) => ({ value: p, label: t(`platform.${p}`, { defaultValue: p }) }))}
            value={platform}
            onChange={(v) => v && setPlatform(v as Platform)}
            allowDeselect={false}
            error={errors.platform || null}
            data-testid="audience-platform"
          />
          <Textarea label={t("create.description")} autosize minRows={2} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description || null} />
          {errors.form && (
            <Text size="sm" c="red" role="alert">
              {errors.form}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t("cancel")}
            </Button>
            <Button type="submit" loading={create.isPending}>
              {t("create.submit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
