import { Alert, Button, Group, NumberInput, Paper, SegmentedControl, SimpleGrid, Skeleton, Stack, Switch, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconDeviceFloppy, IconShieldCheck } from "@tabler/icons-react";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { type ContactPolicy, useContactPolicy, useSaveContactPolicy } from "../../api/audiences";
import { describeError, fieldErrors } from "../../api/problem";
import { ErrorState } from "../../components/States";

export type InviteMode = "never" | "days" | "off";

/** The invite cooldown as the form shows it: never again to the same chat (null), after N days, or no cap (0). */
export function inviteMode(days: number | null): InviteMode {
  return days === null ? "never" : days === 0 ? "off" : "days";
}

export function inviteCooldown(mode: InviteMode, days: number | string): number | null {
  if (mode === "never") return null;
  if (mode === "off") return 0;
  const n = Number(days);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 30;
}

/** The user's contact policy (GET/PUT /contacts/policy): how often one person may be contacted, and whether consent is required. */
export function ContactPolicySection() {
  const { t } = useTranslation("audiences");
  const policy = useContactPolicy();
  return (
    <Paper withBorder radius="md" p={{ base: "sm", sm: "lg" }} component="section" aria-label={t("settings.title")} id="contact-policy">
      <Stack gap="sm">
        <Group gap="xs">
          <IconShieldCheck size={18} />
          <Title order={2} size="h4">
            {t("settings.title")}
          </Title>
        </Group>
        <Text size="sm" c="dimmed">
          {t("settings.intro")}
        </Text>
        {policy.isPending ? (
          <Skeleton height={120} />
        ) : policy.isError ? (
          <ErrorState error={policy.error} onRetry={() => void policy.refetch()} title={t("settings.load_failed")} />
        ) : (
          <PolicyForm key={JSON.stringify(policy.data)} saved={policy.data} />
        )}
      </Stack>
    </Paper>
  );
}

export function PolicyForm({ saved }: { saved: ContactPolicy }) {
  const { t } = useTranslation("audiences");
  const save = useSaveContactPolicy();
  const [messageDays, setMessageDays] = useState<number | string>(saved.message_cooldown_days);
  const [mode, setMode] = useState<InviteMode>(inviteMode(saved.invite_cooldown_days));
  const [inviteDays, setInviteDays] = useState<number | string>(saved.invite_cooldown_days || 30);
  const [consent, setConsent] = useState(saved.require_consent);
  const [errors, setErrors] = useState<Record<string, string>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    const body: ContactPolicy = {
      message_cooldown_days: Math.max(0, Math.floor(Number(messageDays) || 0)),
      invite_cooldown_days: inviteCooldown(mode, inviteDays),
      require_consent: consent,
    };
    try {
      await save.mutateAsync(body);
      notifications.show({ color: "teal", message: t("settings.saved") });
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => ["message_cooldown_days", "invite_cooldown_days", "require_consent"].includes(p));
      setErrors({ ...fields, ...(unplaced.length || !Object.keys(fields).length ? { form: unplaced.join("; ") || describeError(err) } : {}) });
    }
  }

  return (
    <form onSubmit={submit} noValidate data-testid="policy-form">
      <Stack gap="md">
        <Alert
          color={consent ? "teal" : "yellow"}
          variant="light"
          icon={<IconAlertTriangle size={18} />}
          title={t("settings.consent_title")}
          data-testid="require-consent-box"
        >
          <Switch
            size="md"
            label={t("settings.require_consent")}
            description={consent ? t("settings.consent_on") : t("settings.consent_off")}
            checked={consent}
            onChange={(e) => setConsent(e.currentTarget.checked)}
            error={errors.require_consent || null}
          />
        </Alert>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <NumberInput
            label={t("settings.message_days")}
            description={t("settings.message_days_help")}
            min={0}
            max={3650}
            allowDecimal={false}
            value={messageDays}
            onChange={setMessageDays}
            error={errors.message_cooldown_days || null}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              {t("settings.invite")}
            </Text>
            <SegmentedControl
              aria-label={t("settings.invite")}
              data={(["never", "days", "off"] as const).map((m) => ({ value: m, label: t(`settings.invite_${m}`) }))}
              value={mode}
              onChange={(m) => setMode(m as InviteMode)}
            />
            {mode === "days" && (
              <NumberInput
                label={t("settings.invite_days_value")}
                min={1}
                max={3650}
                allowDecimal={false}
                value={inviteDays}
                onChange={setInviteDays}
                error={errors.invite_cooldown_days || null}
              />
            )}
            <Text size="xs" c="dimmed">
              {t(`settings.invite_${mode}_help`)}
            </Text>
          </Stack>
        </SimpleGrid>
        {errors.form && (
          <Text c="red" size="sm" role="alert">
            {errors.form}
          </Text>
        )}
        <Group justify="flex-end">
          <Button type="submit" leftSection={<IconDeviceFloppy size={16} />} loading={save.isPending}>
            {t("settings.save")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
