import { Button, Group, Paper, Select, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { describeError, fieldErrors } from "../../api/problem";
import { type SuppressionPlatform, type SuppressionReason, useAddSuppression } from "../../api/suppressions";
import { detectKind } from "../../lib/pasteTargets";
import { MANUAL_REASONS } from "./reasons";

export function AddSuppression({ platform }: { platform: SuppressionPlatform }) {
  const [who, setWho] = useState("");
  const [reason, setReason] = useState<SuppressionReason>("opt_out");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const add = useAddSuppression();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = who.trim();
    if (!value) {
      setErrors({ who: "Enter a username, user id or phone" });
      return;
    }
    setErrors({});
    const kind = detectKind(value);
    try {
      await add.mutateAsync({ [kind]: value, reason, platform, source: "ui" });
      notifications.show({ color: "teal", message: `${value} is on the opt-out list` });
      setWho("");
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => ["username", "user_id", "phone", "reason", "platform"].includes(p));
      const whoError = fields.username ?? fields.user_id ?? fields.phone ?? (unplaced.join("; ") || undefined);
      setErrors({ who: whoError ?? (fields.reason ? "" : describeError(err)), reason: fields.reason ?? "" });
    }
  }

  return (
    <Paper withBorder radius="md" p="sm">
      <form onSubmit={submit} noValidate>
        <Group align="flex-start" wrap="wrap" gap="sm">
          <TextInput label="Add someone" placeholder="@username, user id or +phone" value={who} onChange={(e) => setWho(e.currentTarget.value)} error={errors.who || null} style={{ flex: "1 1 240px" }} />
          <Select label="Reason" data={MANUAL_REASONS} value={reason} onChange={(v) => v && setReason(v as SuppressionReason)} allowDeselect={false} error={errors.reason || null} w={220} />
          <Button type="submit" mt={25} loading={add.isPending}>
            Add to list
          </Button>
        </Group>
      </form>
    </Paper>
  );
}
