import { Alert, Anchor, Checkbox, Group, Loader, MultiSelect, SimpleGrid, Stack, TagsInput, Text } from "@mantine/core";
import { IconShieldCheck, IconUsersGroup } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { type AudienceSelection, type Platform, type PreviewRequest, type TaskAction, useAudiencePreview, useAudiences, useContactPolicy } from "../../api/audiences";
import { describeError } from "../../api/problem";
import { useDebounced } from "../../lib/useDebounced";
import { policyText, previewText } from "../audiences/previewText";

/** A count is asked for this long after the last change of the picker (typing tags: one request). */
export const PREVIEW_DEBOUNCE_MS = 400;

export const emptySelection = (): AudienceSelection => ({ include: [], exclude: [], exclude_tags: [], include_new_contacts: false });

/**
 * The task's audiences: include some, exclude audiences or tags, and whether contacts added later join on
 * resume; with the live count of who would be targeted after suppression, consent and frequency rules, and
 * the contact policy in force.
 */
export function AudiencePicker({
  platform,
  action,
  destination,
  value,
  onChange,
  error,
  disabled,
}: {
  platform: Platform;
  action: TaskAction;
  destination: string;
  value: AudienceSelection;
  onChange: (v: AudienceSelection) => void;
  error?: string | null;
  disabled?: boolean;
}) {
  const { t } = useTranslation("audiences");
  const audiences = useAudiences(platform, undefined, 200);
  const options = (audiences.data?.items ?? []).map((a) => ({ value: a.id, label: a.name }));
  const request: PreviewRequest | null = value.include.length ? { platform, action, destination: destination.trim() || null, audiences: value } : null;
  const settled = useDebounced(JSON.stringify(request), PREVIEW_DEBOUNCE_MS);
  const preview = useAudiencePreview(JSON.parse(settled) as PreviewRequest | null);
  const policy = useContactPolicy();
  const inForce = preview.data ?? policy.data;
  const set = (patch: Partial<AudienceSelection>) => onChange({ ...value, ...patch });

  return (
    <Stack gap="sm" data-testid="audience-picker">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <MultiSelect
          label={t("picker.include")}
          description={t("picker.include_help")}
          placeholder={options.length ? t("picker.choose") : t("picker.none_yet")}
          data={options}
          value={value.include}
          onChange={(include) => set({ include, exclude: value.exclude.filter((x) => !include.includes(x)) })}
          searchable
          clearable
          maxValues={20}
          error={error || null}
          disabled={disabled}
          leftSection={<IconUsersGroup size={16} />}
          data-testid="audience-include"
        />
        <MultiSelect
          label={t("picker.exclude")}
          data={options.filter((o) => !value.include.includes(o.value))}
          value={value.exclude}
          onChange={(exclude) => set({ exclude })}
          searchable
          clearable
          maxValues={20}
          disabled={disabled || value.include.length === 0}
          data-testid="audience-exclude"
        />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TagsInput
          label={t("picker.exclude_tags")}
          value={value.exclude_tags}
          onChange={(tags) => set({ exclude_tags: tags.map((x) => x.trim().toLowerCase()).filter(Boolean) })}
          maxTags={50}
          clearable
          disabled={disabled || value.include.length === 0}
          data-testid="audience-exclude-tags"
        />
        <Checkbox
          mt={{ sm: 28 }}
          label={t("picker.include_new")}
          description={t("picker.include_new_help")}
          checked={value.include_new_contacts}
          onChange={(e) => set({ include_new_contacts: e.currentTarget.checked })}
          disabled={disabled || value.include.length === 0}
        />
      </SimpleGrid>
      {value.include.length > 0 && (
        <Alert color={preview.isError ? "red" : "blue"} variant="light" p="xs" data-testid="audience-count" aria-live="polite">
          <Group gap="xs" wrap="nowrap">
            {(preview.isFetching || settled !== JSON.stringify(request)) && <Loader size="xs" />}
            <Text size="sm" fw={500}>
              {preview.isError ? describeError(preview.error) : preview.data ? previewText(t, preview.data, action) : t("picker.counting")}
            </Text>
          </Group>
        </Alert>
      )}
      {inForce && (
        <Group gap={6} wrap="wrap" data-testid="policy-in-force">
          <IconShieldCheck size={16} />
          <Text size="xs" c="dimmed">
            {t("policy.in_force", { policy: policyText(t, inForce) })}
          </Text>
          <Anchor component={Link} to="/settings" size="xs">
            {t("policy.change")}
          </Anchor>
        </Group>
      )}
    </Stack>
  );
}
