import { Chip, Group, Select, Stack, Switch, Text, TextInput } from "@mantine/core";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";

/** 0 = Monday, as the service counts. */
const DAYS = [0, 1, 2, 3, 4, 5, 6];

export function timeZones(): string[] {
  let zones: string[] = [];
  try {
    zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  } catch {
    zones = [];
  }
  if (!zones.includes("UTC")) zones = ["UTC", ...zones];
  return zones;
}

interface Props {
  enabled: boolean;
  onEnabled: (v: boolean) => void;
  days: string[];
  onDays: (v: string[]) => void;
  start: string;
  onStart: (v: string) => void;
  end: string;
  onEnd: (v: string) => void;
  timezone: string;
  onTimezone: (v: string) => void;
  errors: { window?: string; days?: string; start?: string; end?: string; timezone?: string };
  disabled?: boolean;
}

export function SendWindowFields(p: Props) {
  const { t } = useTranslation("form");
  const zones = useMemo(timeZones, []);
  const data = zones.includes(p.timezone) ? zones : [p.timezone, ...zones];
  return (
    <Stack gap="sm">
      <Switch
        label={t("window.label")}
        description={t("window.help")}
        checked={p.enabled}
        onChange={(e) => p.onEnabled(e.currentTarget.checked)}
        disabled={p.disabled}
      />
      {p.enabled && (
        <Stack gap="sm" pl={{ base: 0, sm: "xl" }}>
          <div>
            <Text size="sm" fw={500} mb={4}>
              {t("field.window.days")}
            </Text>
            <Chip.Group multiple value={p.days} onChange={p.onDays}>
              <Group gap={6}>
                {DAYS.map((d) => (
                  <Chip key={d} value={String(d)} size="xs" disabled={p.disabled}>
                    {t(`window.day.${d}`)}
                  </Chip>
                ))}
              </Group>
            </Chip.Group>
            {p.errors.days && (
              <Text size="xs" c="red" mt={4}>
                {p.errors.days}
              </Text>
            )}
          </div>
          <Group grow align="flex-start">
            <TextInput type="time" label={t("field.window.start")} value={p.start} onChange={(e) => p.onStart(e.currentTarget.value)} error={p.errors.start} disabled={p.disabled} />
            <TextInput type="time" label={t("field.window.end")} value={p.end} onChange={(e) => p.onEnd(e.currentTarget.value)} error={p.errors.end} disabled={p.disabled} />
          </Group>
          <Select
            label={t("field.window.timezone")}
            searchable
            data={data}
            value={p.timezone}
            onChange={(v) => v && p.onTimezone(v)}
            error={p.errors.timezone}
            nothingFoundMessage={t("window.no_zone")}
            limit={200}
            allowDeselect={false}
            disabled={p.disabled}
            aria-label={t("field.window.timezone")}
          />
          {p.errors.window && (
            <Text size="xs" c="red" role="alert">
              {p.errors.window}
            </Text>
          )}
          <Text size="xs" c="dimmed">
            {t("window.midnight")}
          </Text>
        </Stack>
      )}
    </Stack>
  );
}
