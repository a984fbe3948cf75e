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
          <Group gap="sm">
            <ThemeIcon size={40} radius="md">
              <IconSend size={22} />
            </ThemeIcon>
            <div>
              <Title order={2} size="h3">
                Invite Service
              </Title>
              <Text size="sm" c="dimmed">
                Invite and message your consenting audience
              </Text>
            </div>
          </Group>
          {ended && (
            <Alert color="yellow" icon={<IconInfoCircle size={18} />} role="alert">
              {ended}
            </Alert>
          )}
          {devLogin.loading ? (
            <Text size="sm" c="dimmed">
              Checking the service…
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
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const login = useDevLogin();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const user = name.trim();
    if (!NAME.test(user)) {
      setError("Use letters, digits and . _ @ - only (up to 128)");
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
          This is the embedded profile: sign in with any name. Each name sees only its own tasks.
        </Text>
        <TextInput
          label="Your name"
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
          Sign in
        </Button>
        <Anchor component="button" type="button" size="sm" onClick={onUseToken}>
          I have a token
        </Anchor>
      </Stack>
    </form>
  );
}

function TokenForm({ onDone, embedded, onUseName }: { onDone: () => void; embedded: boolean; onUseName: () => void }) {
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
      setError("Paste the bearer token you were given");
      return;
    }
    setError(null);
    try {
      await tokenProbe.mutateAsync(`Bearer ${raw}`);
      const { sub, exp } = decodeToken(raw);
      signIn({ mode: "token", token: raw, user: sub ?? "token user", expiresAt: exp });
      onDone();
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(status === 401 ? "The service refused this token (expired, or not for this service)." : describeError(err));
    }
  }

  async function gateway() {
    setGatewayError(null);
    try {
      await gatewayProbe.mutateAsync(null);
      signIn({ mode: "gateway", token: null, user: "gateway session", expiresAt: null });
      onDone();
    } catch (err) {
      const status = (err as { status?: number }).status;
      setGatewayError(
        status === 401 ? "No session from the gateway: sign in through your platform first, or paste a token." : describeError(err),
      );
    }
  }

  return (
    <Stack>
      <form onSubmit={submit} noValidate>
        <Stack>
          <PasswordInput
            label="Access token"
            description="A bearer token (JWT) issued for this service. It is kept only for this browser tab."
            placeholder="eyJhbGciOi…"
            name="token"
            value={token}
            onChange={(e) => setToken(e.currentTarget.value)}
            error={error}
            autoFocus
          />
          <Button type="submit" loading={tokenProbe.isPending} disabled={busy} fullWidth>
            Sign in with token
          </Button>
        </Stack>
      </form>
      {embedded ? (
        <Anchor component="button" type="button" size="sm" onClick={onUseName}>
          Sign in with a name instead
        </Anchor>
      ) : (
        <>
          <Divider label="or" labelPosition="center" />
          <Button variant="light" onClick={gateway} loading={gatewayProbe.isPending} disabled={busy}>
            Continue with my platform session
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
