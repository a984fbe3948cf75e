import { createTheme, MantineProvider } from "@mantine/core";
import { Notifications, notifications } from "@mantine/notifications";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ApiError, describeError } from "./api/problem";
import i18n from "./i18n";
import { ConfirmProvider } from "./components/Confirm";

export const theme = createTheme({
  primaryColor: "blue",
  defaultRadius: "md",
  fontFamily: "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
});

declare module "@tanstack/react-query" {
  interface Register {
    mutationMeta: { handlesError?: boolean };
  }
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    // A failed mutation whose caller does not show the error itself still tells the user.
    mutationCache: new MutationCache({
      onError: (error, _v, _c, mutation) => {
        if (mutation.meta?.handlesError) return;
        notifications.show({ color: "red", title: i18n.t("shell:mutation_failed"), message: describeError(error) });
      },
    }),
    queryCache: new QueryCache(),
    defaultOptions: {
      queries: {
        staleTime: 2000,
        retry: (count, error) =>
          count < 2 && (!(error instanceof ApiError) || error.status === 0 || error.status >= 500),
      },
      mutations: { retry: false },
    },
  });
}

export function Providers({ children, client }: { children: ReactNode; client: QueryClient }) {
  return (
    <MantineProvider theme={theme} defaultColorScheme="light">
      <Notifications position="top-right" limit={4} />
      <QueryClientProvider client={client}>
        <ConfirmProvider>{children}</ConfirmProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
