import { Button, Group, Modal, Stack, Text } from "@mantine/core";
import { createContext, type ReactNode, useCallback, useContext, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

export interface ConfirmOptions {
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  color?: string;
}

type ConfirmFn = (options: ConfirmOptions) => Promise<boolean>;
const ConfirmContext = createContext<ConfirmFn | null>(null);

/** `const confirm = useConfirm(); if (await confirm({...})) …` — one modal for every confirmation. */
export function ConfirmProvider({ children }: { children: ReactNode }) {
  const { t } = useTranslation("shell");
  const [options, setOptions] = useState<ConfirmOptions | null>(null);
  const resolver = useRef<((ok: boolean) => void) | null>(null);

  const confirm = useCallback<ConfirmFn>((next) => {
    resolver.current?.(false);
    setOptions(next);
    return new Promise<boolean>((resolve) => {
      resolver.current = resolve;
    });
  }, []);

  const close = (ok: boolean) => {
    resolver.current?.(ok);
    resolver.current = null;
    setOptions(null);
  };

  return (
    <ConfirmContext.Provider value={confirm}>
      {children}
      <Modal opened={options !== null} onClose={() => close(false)} title={options?.title} centered>
        <Stack>
          <Text size="sm" component="div">
            {options?.message}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => close(false)}>
              {t("confirm.keep")}
            </Button>
            <Button color={options?.color ?? "blue"} onClick={() => close(true)} data-autofocus>
              {options?.confirmLabel ?? t("confirm.ok")}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </ConfirmContext.Provider>
  );
}

export function useConfirm(): ConfirmFn {
  const fn = useContext(ConfirmContext);
  if (!fn) throw new Error("useConfirm needs <ConfirmProvider>");
  return fn;
}
