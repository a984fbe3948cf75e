import { Button, Group, Paper, Select, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { describeError, fieldErrors } from "../../api/problem";
import { type SuppressionPlatform, type SuppressionReason, useAddSuppression } from "../../api/suppressions";
import { detectKind } from "../../lib/pasteTargets";
import { ALL, MANUAL_REASON_VALUES, platformOptions, reasonOptions } from "./reasons";

/** One person by hand: for every platform unless one is chosen; the entry's source is "ui". */
export function AddSuppression() {
  const { t } = useTranslation("suppressions");
  const [who, setWho] = useState("");
  const [reason, setReason] = useState<SuppressionReason>("opt_out");
  const [platform, setPlatform] = useState<string>(ALL);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const add = useAddSuppression();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = who.trim();
    if (!value) {
      setErrors({ who: t("add.who_required") });
      return;
    }
    setErrors({});
    const kind = detectKind(value);
    try {
      await add.mutateAsync({ [kind]: value, reason, platform: (platform === ALL ? null : platform) as SuppressionPlatform, source: "ui" });
      notifications.show({ color: "teal", message: t("add.done", { who: value }) });
      setWho("");
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => ["username", "user_id", "phone", "reason", "platform"].includes(p));
      const whoError = fields.username ?? fields.user_id ?? fields.phone ?? (unplaced.join("; ") || undefined);
      setErrors({
        who: whoError ?? (fields.reason || fields.platform ? "" : describeError(err)),
        reason: fields.reason ?? "",
        platform: fields.platform ?? "",
      });
    }
  }

  return (
    <Paper withBorder radius="md" p="sm">
      <form onSubmit={submit} noValidate>
        <Group align="flex-start" wrap="wrap" gap="sm">
          <TextInput
            label={t("add.who")}
            placeholder={t("add.who_placeholder")}
            value={who}
            onChange={(e) => {
              setWho(e.currentTarget.value);
              if (errors.who) setErrors((x) => ({ ...x, who: "" }));
            }}
            error={errors.who || null}
            style={{ flex: "1 1 240px" }}
          />
          <Select
            label={t("add.platform")}
            data={platformOptions(t)}
            value={platform}
            onChange={(v) => setPlatform(v ?? ALL)}
            allowDeselect={false}
            error={errors.platform || null}
            style={{ flex: "1 1 160px" }}
            data-testid="add-platform"
          />
          <Select
            label={t("add.reason")}
            data={reasonOptions(t, MANUAL_REASON_VALUES)}
            value={reason}
            onChange={(v) => v && setReason(v as SuppressionReason)}
            allowDeselect={false}
            error={errors.reason || null}
            style={{ flex: "1 1 200px" }}
          />
          <Button type="submit" mt={25} loading={add.isPending}>
            {t("add.submit")}
          </Button>
        </Group>
      </form>
    </Paper>
  );
}
