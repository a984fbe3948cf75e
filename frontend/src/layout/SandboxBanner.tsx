import { Alert } from "@mantine/core";
import { IconFlask } from "@tabler/icons-react";
import { useMeta } from "../api/notifications";
import { t, tf } from "../lib/i18n";

/**
 * On every page of a production service that runs with simulators (the operator's INVITE_ALLOW_SANDBOX):
 * nothing the user starts really reaches anyone. The embedded profile is a simulator by design and says so
 * elsewhere; a service without /meta (404) shows nothing.
 */
export function SandboxBanner() {
  const meta = useMeta();
  const m = meta.data;
  if (!m || m.profile !== "production" || m.simulated.length === 0) return null;
  return (
    <Alert color="orange" variant="filled" radius={0} icon={<IconFlask size={18} />} title={tf("banner.simulated.title", { what: m.simulated.join(", ") })} data-testid="sandbox-banner" role="alert" mb="md">
      {t("banner.simulated.body")}
    </Alert>
  );
}
