import { Alert, Badge, Group, Paper, ScrollArea, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconHistory } from "@tabler/icons-react";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import type { ColumnMapping } from "../../api/imports";
import type { ImportValidateOut } from "../../api/types";
import { num } from "../../lib/format";
import { splitFullName } from "../../lib/names";

/** The fields a column can be, besides a template field of its own name and "ignore". */
const TARGET_FIELDS = ["identity", "username", "user_id", "phone", "full_name", "first_name", "last_name"] as const;
const IGNORE = "ignore";
const FULL_NAME = "full_name";
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DELIMITERS: Record<string, string> = { ",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe" };
/** Examples of the full-name split shown under a full-name column (the same rule as the service's). */
const SPLIT_EXAMPLES = ["Иванов Иван Иванович", "John Smith"];

export type Mapping = ColumnMapping;

/**
 * What the service read from a file before anything is written: format, encoding, delimiter, the
 * column mapping (changeable), counts and the first row errors.
 */
export function ImportPreview({
  preview,
  mapping,
  onMappingChange,
  extraFields = [],
}: {
  preview: ImportValidateOut;
  mapping: Mapping;
  onMappingChange: (m: Mapping) => void;
  /** Fields only some destinations take (an audience: tags and consent). */
  extraFields?: readonly string[];
}) {
  const { t } = useTranslation("import");
  const hasIdentity = hasIdentityColumn(mapping);
  const sampleColumns = sampleColumnsOf(preview.preview);
  const fullName = Object.values(mapping).includes(FULL_NAME);
  const delimiter = preview.delimiter === null ? null : DELIMITERS[preview.delimiter];
  const fieldLabel: Record<string, string> = Object.fromEntries(TARGET_FIELDS.map((f) => [f, t(`map.${f}`)]));
  return (
    <Stack gap="md" data-testid="import-preview">
      <Group gap="xs">
        <Badge variant="light">{preview.format.toUpperCase()}</Badge>
        {preview.encoding && (
          <Badge variant="light" color="gray" data-testid="import-encoding">
            {t("badge.encoding", { encoding: preview.encoding })}
          </Badge>
        )}
        {preview.sheet && (
          <Badge variant="light" color="gray">
            {t("badge.sheet", { sheet: preview.sheet })}
          </Badge>
        )}
        {!preview.has_header && (
          <Badge variant="light" color="yellow">
            {t("badge.no_header")}
          </Badge>
        )}
        {preview.delimiter !== null && (
          <Badge variant="light" color="gray" data-testid="import-delimiter">
            {t("badge.delimiter", { delimiter: delimiter ? t(`delimiter.${delimiter}`) : JSON.stringify(preview.delimiter) })}
          </Badge>
        )}
      </Group>

      <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="xs" data-testid="import-counts">
        {(
          [
            ["rows", undefined, preview.rows],
            ["valid", "teal", preview.valid],
            ["duplicates", "gray", preview.duplicates],
            ["suppressed", "orange", preview.suppressed],
            ["invalid", "red", preview.invalid],
          ] as const
        ).map(([k, color, value]) => (
          <Paper key={k} withBorder p="xs" radius="md">
            <Text size="xs" c="dimmed">
              {t(`count.${k}`)}
            </Text>
            <Text fw={700} c={color} data-count={k}>
              {value === null ? "—" : num(value)}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>

      <div>
        <Title order={4} size="h6" mb={4}>
          {t("columns.title")}
        </Title>
        <Text size="xs" c="dimmed" mb="xs">
          {t("columns.help", { example: "{column}" })}
        </Text>
        {preview.remembered && (
          <Alert color="blue" variant="light" icon={<IconHistory size={16} />} mb="xs" p="xs" data-testid="import-remembered">
            {t("columns.remembered")}
          </Alert>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="xs">
          {preview.columns.map((col) => {
            const current = mapping[col];
            const suggested = preview.mapping[col];
            const custom = [current, suggested, col].filter(
              (v): v is string => !!v && FIELD_NAME.test(v) && !(TARGET_FIELDS as readonly string[]).includes(v) && v !== IGNORE,
            );
            const options = [
              ...TARGET_FIELDS.map((f) => ({ value: f as string, label: fieldLabel[f] ?? f })),
              ...extraFields.map((f) => ({ value: f, label: t(`map.${f}`, { defaultValue: f }) })),
              ...custom.map((f) => ({ value: f, label: t("map.template_field", { field: `{${f}}` }) })),
              { value: IGNORE, label: t("map.ignore") },
            ];
            return (
              <Select
                key={col}
                label={col}
                aria-label={t("map.column", { column: col })}
                data={options.filter((o, i, all) => all.findIndex((x) => x.value === o.value) === i)}
                value={current === null || current === undefined ? IGNORE : current}
                onChange={(v) => onMappingChange({ ...mapping, [col]: v ?? IGNORE })}
                allowDeselect={false}
                size="xs"
                description={current === FULL_NAME ? <FullNameHint /> : undefined}
              />
            );
          })}
        </SimpleGrid>
        {!hasIdentity && (
          <Text size="sm" c="red" mt="xs" role="alert" data-testid="import-no-identity">
            {t("columns.no_identity")}
          </Text>
        )}
      </div>

      {preview.preview.length > 0 && (
        <div>
          <Title order={4} size="h6" mb={4}>
            {t("sample.title")}
          </Title>
          <ScrollArea>
            <Table fz="xs" verticalSpacing={2} striped withTableBorder data-testid="import-sample">
              <Table.Thead>
                <Table.Tr>
                  {sampleColumns.map((k) => (
                    <Table.Th key={k}>
                      {k.startsWith("fields.") ? `{${k.slice(7)}}` : t(`sample.col.${k}`, { defaultValue: k })}
                      {fullName && (k === "first_name" || k === "last_name") && (
                        <Text span size="xs" c="dimmed" fw={400} data-testid="import-split-mark">
                          {" "}
                          {t("sample.from_full_name")}
                        </Text>
                      )}
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {preview.preview.slice(0, 5).map((row, i) => (
                  <Table.Tr key={i}>
                    {sampleColumns.map((k) => (
                      <Table.Td key={k}>{k === "kind" ? t(`kind.${cell(row, k)}`, { defaultValue: cell(row, k) }) : cell(row, k)}</Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        </div>
      )}

      {preview.errors.length > 0 && (
        <div>
          <Title order={4} size="h6" mb={4}>
            {t("errors.title")}
          </Title>
          <ScrollArea.Autosize mah={220}>
            <Table fz="sm" verticalSpacing={4} striped data-testid="import-errors">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={70}>{t("errors.row")}</Table.Th>
                  <Table.Th>{t("errors.reason")}</Table.Th>
                  <Table.Th>{t("errors.detail")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {preview.errors.map((e, i) => (
                  <Table.Tr key={i}>
                    <Table.Td>{e.row}</Table.Td>
                    <Table.Td>{rowReason(t, e.reason, e.duplicate_of_row)}</Table.Td>
                    <Table.Td>
                      <Text size="sm" c="red">
                        {e.detail}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        </div>
      )}
    </Stack>
  );
}

/** How a full-name column is split, shown on examples by the service's own rule. */
function FullNameHint() {
  const { t } = useTranslation("import");
  return (
    <span data-testid="import-full-name-hint">
      {t("map.full_name_rule")}{" "}
      {SPLIT_EXAMPLES.map((example) => {
        const s = splitFullName(example);
        return t("map.full_name_example", { example, first: s.first ?? "—", last: s.last ?? "—" });
      }).join("; ")}
    </span>
  );
}

/** A row's reason code in words (unknown codes as they are). */
export function rowReason(t: TFunction<"import">, reason: string, duplicateOf?: number | null): string {
  if (reason === "duplicate" && duplicateOf) return t("reason.duplicate_of", { row: duplicateOf });
  return t(`reason.${reason}`, { defaultValue: reason });
}

const SAMPLE_BASE = ["row", "key", "kind", "first_name", "last_name"];

function sampleColumnsOf(rows: Record<string, unknown>[]): string[] {
  const fields = new Set<string>();
  for (const r of rows) {
    const f = r.fields;
    if (f && typeof f === "object") for (const k of Object.keys(f)) fields.add(`fields.${k}`);
  }
  const base = SAMPLE_BASE.filter((k) => rows.some((r) => r[k] !== undefined && r[k] !== null));
  // Rows of another shape (no key): show what they have.
  if (!base.includes("key")) return Object.keys(rows[0] ?? {});
  return [...base, ...fields];
}

function cell(row: Record<string, unknown>, column: string): string {
  const value = column.startsWith("fields.") ? (row.fields as Record<string, unknown> | undefined)?.[column.slice(7)] : row[column];
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function hasIdentityColumn(mapping: Mapping): boolean {
  return Object.values(mapping).some((v) => v === "username" || v === "user_id" || v === "phone" || v === "identity");
}
