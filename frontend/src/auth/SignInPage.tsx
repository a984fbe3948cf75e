import {
  Alert,
  Anchor,
  Button,
  Center,
  Divider,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  ThemeIcon,
  Title,
} from "@mantine/core";
import { IconInfoCircle, IconSend } from "@tabler/icons-react";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { LanguageSwitch } from "../i18n/LanguageSwitch";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { useDevLogin, useDevLoginOffered, useProbeAccess } from "../api/auth";
import { describeError, fieldErrors } from "../api/problem";
import { useSession } from "./RequireAuth";
import { decodeToken, signIn, takeEndedReason } from "./session";

const NAME = /^[A-Za-z0-9_.@-]{1,128}$/;

function safeNext(raw: string | null): string {
  return raw && raw.startsWith("/") && !raw.startsWith("//") && !raw.startsWith("/sign-in") ? raw : "/tasks";
}

export function SignInPage() {
  const { t } = useTranslation("auth");
  const session = useSession();
  const devLogin = useDevLoginOffered();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const [ended] = useState(takeEndedReason);
  const [useToken, setUseToken] = useState(false);
  const embedded = devLogin.offered;

  if (session) return <Navigate to={next} replace />;

  const done = () => navigate(next, { replace: true });

  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-gray-0)">
      <Paper withBorder shadow="sm" radius="lg" p="xl" w="100%" maw={420}>
        <Stack gap="lg">
          <Group justify="flex-end">
            <LanguageSwitch />
          </Group>
          <Group gap="sm">
            <ThemeIcon size={40} radius="md">
              <IconSend size={22} />
            </ThemeIcon>
            <div>
              <Title order={2} size="h3">
                {t("shell:app_name")}
              </Title>
              <Text size="sm" c="dimmed">
                {t("tagline")}
              </Text>
            </div>
          </Group>
          {ended && (
            <Alert color="yellow" icon={<IconInfoCircle size={18} />} role="alert">
              {/* The one reason a session ends on its own is a refused token (api/client.ts). */}
              {t("session_ended")}
            </Alert>
          )}
          {devLogin.loading ? (
            <Text size="sm" c="dimmed">
              {t("checking")}
            </Text>
          ) : embedded && !useToken ? (
            <DevLoginForm onDone={done} onUseToken={() => setUseToken(true)} />
          ) : (
            <TokenForm onDone={done} embedded={embedded} onUseName={() => setUseToken(false)} />
          )}
        </Stack>
      </Paper>
    </Center>
  );
}

function DevLoginForm({ onDone, onUseToken }: { onDone: () => void; onUseToken: () => void }) {
  const { t } = useTranslation("auth");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const login = useDevLogin();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const user = name.trim();
    if (!NAME.test(user)) {
      setError(t("dev.name_invalid"));
      return;
    }
    setError(null);
    try {
      const out = await login.mutateAsync(user);
      const { exp } = decodeToken(out.access_token);
      signIn({ mode: "dev", token: out.access_token, user: out.user, expiresAt: exp });
      onDone();
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => p === "user");
      setError(fields.user ?? (unplaced.join("; ") || describeError(err)));
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Text size="sm">
          {t("dev.intro")}
        </Text>
        <TextInput
          label={t("dev.name")}
          name="user"
          placeholder="alice"
          autoComplete="username"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={error}
          data-autofocus
          autoFocus
        />
        <Button type="submit" loading={login.isPending} fullWidth>
          {t("dev.submit")}
        </Button>
        <Anchor component="button" type="button" size="sm" onClick={onUseToken}>
          {t("dev.use_token")}
        </Anchor>
      </Stack>
    </form>
  );
}

function TokenForm({ onDone, embedded, onUseName }: { onDone: () => void; embedded: boolean; onUseName: () => void }) {
  const { t } = useTranslation("auth");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [gatewayError, setGatewayError] = useState<string | null>(null);
  // One probe each, so each button shows its own spinner and both wait while either runs.
  const tokenProbe = useProbeAccess();
  const gatewayProbe = useProbeAccess();
  const busy = tokenProbe.isPending || gatewayProbe.isPending;

  async function submit(e: FormEvent) {
    e.preventDefault();
    const raw = token.trim().replace(/^Bearer\s+/i, "");
    if (!raw) {
      setError(t("token.required"));
      return;
    }
    setError(null);
    try {
      await tokenProbe.mutateAsync(`Bearer ${raw}`);
      const { sub, exp } = decodeToken(raw);
      signIn({ mode: "token", token: raw, user: sub ?? t("token.user"), expiresAt: exp });
      onDone();
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(status === 401 ? t("token.refused") : describeError(err));
    }
  }

  async function gateway() {
    setGatewayError(null);
    try {
      await gatewayProbe.mutateAsync(null);
      signIn({ mode: "gateway", token: null, user: t("gateway.user"), expiresAt: null });
      onDone();
    } catch (err) {
      const status = (err as { status?: number }).status;
      setGatewayError(
        status === 401 ? t("gateway.none") : describeError(err),
      );
    }
  }

  return (
    <Stack>
      <form onSubmit={submit} noValidate>
        <Stack>
          <PasswordInput
            label={t("token.label")}
            description={t("token.hint")}
            placeholder="eyJhbGciOi…"
            name="token"
            value={token}
            onChange={(e) => setToken(e.currentTarget.value)}
            error={error}
            autoFocus
          />
          <Button type="submit" loading={tokenProbe.isPending} disabled={busy} fullWidth>
            {t("token.submit")}
          </Button>
        </Stack>
      </form>
      {embedded ? (
        <Anchor component="button" type="button" size="sm" onClick={onUseName}>
          {t("token.use_name")}
        </Anchor>
      ) : (
        <>
          <Divider label={t("or")} labelPosition="center" />
          <Button variant="light" onClick={gateway} loading={gatewayProbe.isPending} disabled={busy}>
            {t("gateway.submit")}
          </Button>
          {gatewayError && (
            <Text size="sm" c="red" role="alert">
              {gatewayError}
            </Text>
          )}
        </>
      )}
    </Stack>
  );
}
