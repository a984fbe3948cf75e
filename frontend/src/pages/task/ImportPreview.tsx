import { Badge, Group, Paper, ScrollArea, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import type { ColumnMapping } from "../../api/imports";
import type { ImportValidateOut } from "../../api/types";
import { num } from "../../lib/format";

const IDENTITY = [
  { value: "identity", label: "Contact (detect the kind)" },
  { value: "username", label: "Username" },
  { value: "user_id", label: "User id" },
  { value: "phone", label: "Phone" },
  { value: "first_name", label: "First name" },
  { value: "last_name", label: "Last name" },
];
const IGNORE = "ignore";
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function delimiterName(d: string | null): string {
  if (d === null) return "—";
  return { ",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe" }[d] ?? JSON.stringify(d);
}

export type Mapping = ColumnMapping;

/**
 * What the service read from a file before anything is written: format, encoding, delimiter, the
 * column mapping (changeable), counts and the first row errors.
 */
export function ImportPreview({
  preview,
  mapping,
  onMappingChange,
}: {
  preview: ImportValidateOut;
  mapping: Mapping;
  onMappingChange: (m: Mapping) => void;
}) {
  const hasIdentity = hasIdentityColumn(mapping);
  const sampleColumns = sampleColumnsOf(preview.preview);
  return (
    <Stack gap="md" data-testid="import-preview">
      <Group gap="xs">
        <Badge variant="light">{preview.format.toUpperCase()}</Badge>
        {preview.encoding && (
          <Badge variant="light" color="gray" data-testid="import-encoding">
            encoding {preview.encoding}
          </Badge>
        )}
        {preview.sheet && (
          <Badge variant="light" color="gray">
            sheet {preview.sheet}
          </Badge>
        )}
        {!preview.has_header && (
          <Badge variant="light" color="yellow">
            no header row
          </Badge>
        )}
        {preview.delimiter !== null && (
          <Badge variant="light" color="gray" data-testid="import-delimiter">
            delimiter: {delimiterName(preview.delimiter)}
          </Badge>
        )}
      </Group>

      <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="xs" data-testid="import-counts">
        {(
          [
            ["rows", "Rows", undefined, preview.rows],
            ["valid", "Will import", "teal", preview.valid],
            ["duplicates", "Duplicates", "gray", preview.duplicates],
            ["suppressed", "Opted out", "orange", preview.suppressed],
            ["invalid", "Invalid", "red", preview.invalid],
          ] as const
        ).map(([k, label, color, value]) => (
          <Paper key={k} withBorder p="xs" radius="md">
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text fw={700} c={color} data-count={k}>
              {value === null ? "—" : num(value)}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>

      <div>
        <Title order={4} size="h6" mb={4}>
          Columns
        </Title>
        <Text size="xs" c="dimmed" mb="xs">
          Each column becomes an identity, a name, or a field your message template can use as {"{column}"}.
        </Text>
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="xs">
          {preview.columns.map((col) => {
            const current = mapping[col];
            const suggested = preview.mapping[col];
            const custom = [current, suggested, col].filter(
              (v): v is string => !!v && FIELD_NAME.test(v) && !IDENTITY.some((o) => o.value === v) && v !== IGNORE,
            );
            const options = [...IDENTITY, ...custom.map((f) => ({ value: f, label: `Template field {${f}}` })), { value: IGNORE, label: "Ignore" }];
            return (
              <Select
                key={col}
                label={col}
                aria-label={`Column ${col}`}
                data={options.filter((o, i, all) => all.findIndex((x) => x.value === o.value) === i)}
                value={current === null || current === undefined ? IGNORE : current}
                onChange={(v) => onMappingChange({ ...mapping, [col]: v ?? IGNORE })}
                allowDeselect={false}
                size="xs"
              />
            );
          })}
        </SimpleGrid>
        {!hasIdentity && (
          <Text size="sm" c="red" mt="xs" role="alert" data-testid="import-no-identity">
            Map at least one column to a username, user id or phone.
          </Text>
        )}
      </div>

      {preview.preview.length > 0 && (
        <div>
          <Title order={4} size="h6" mb={4}>
            First rows as they will be read
          </Title>
          <ScrollArea>
            <Table fz="xs" verticalSpacing={2} striped withTableBorder data-testid="import-sample">
              <Table.Thead>
                <Table.Tr>
                  {sampleColumns.map((k) => (
                    <Table.Th key={k}>{k.startsWith("fields.") ? `{${k.slice(7)}}` : k.replace("_", " ")}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {preview.preview.slice(0, 5).map((row, i) => (
                  <Table.Tr key={i}>
                    {sampleColumns.map((k) => (
                      <Table.Td key={k}>{cell(row, k)}</Table.Td>
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
            First problems
          </Title>
          <ScrollArea.Autosize mah={220}>
            <Table fz="sm" verticalSpacing={4} striped data-testid="import-errors">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={70}>Row</Table.Th>
                  <Table.Th>Reason</Table.Th>
                  <Table.Th>Problem</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {preview.errors.map((e, i) => (
                  <Table.Tr key={i}>
                    <Table.Td>{e.row}</Table.Td>
                    <Table.Td>{e.reason}</Table.Td>
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
