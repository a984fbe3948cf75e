import { Button, Group, Text } from "@mantine/core";
import { IconChevronLeft, IconChevronRight } from "@tabler/icons-react";
import { useCallback, useState } from "react";
import { num } from "../lib/format";

/** Keyset paging: a stack of cursors (the API has no page numbers, only `next_cursor`). */
export function useCursorStack(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | undefined)[] }>({ key: resetKey, stack: [undefined] });
  const stack = state.key === resetKey ? state.stack : [undefined];
  if (state.key !== resetKey) setState({ key: resetKey, stack });
  const cursor = stack[stack.length - 1];
  const next = useCallback((c: string) => setState((s) => ({ key: resetKey, stack: [...s.stack, c] })), [resetKey]);
  const prev = useCallback(() => setState((s) => ({ key: resetKey, stack: s.stack.slice(0, -1) })), [resetKey]);
  const first = useCallback(() => setState({ key: resetKey, stack: [undefined] }), [resetKey]);
  return { cursor, page: stack.length, next, prev, first };
}

export function Pager({
  page,
  pageSize,
  shown,
  total,
  nextCursor,
  onNext,
  onPrev,
  noun = "items",
}: {
  page: number;
  pageSize: number;
  shown: number;
  total: number;
  nextCursor: string | null | undefined;
  onNext: (c: string) => void;
  onPrev: () => void;
  noun?: string;
}) {
  const from = shown === 0 ? 0 : (page - 1) * pageSize + 1;
  const to = (page - 1) * pageSize + shown;
  return (
    <Group justify="space-between" mt="sm" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" data-testid="pager-summary">
        {total === 0 ? `No ${noun}` : `${num(from)}–${num(to)} of ${num(total)} ${noun}`}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" leftSection={<IconChevronLeft size={14} />} disabled={page <= 1} onClick={onPrev}>
          Previous
        </Button>
        <Button
          variant="default"
          size="xs"
          rightSection={<IconChevronRight size={14} />}
          disabled={!nextCursor}
          onClick={() => nextCursor && onNext(nextCursor)}
        >
          Next
        </Button>
      </Group>
    </Group>
  );
}
