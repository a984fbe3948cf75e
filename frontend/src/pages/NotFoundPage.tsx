import { Button } from "@mantine/core";
import { IconMapOff } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { EmptyState } from "../components/States";

export function NotFoundPage() {
  const { t } = useTranslation("shell");
  return (
    <EmptyState
      icon={<IconMapOff size={24} />}
      title={t("notfound.title")}
      action={
        <Button component={Link} to="/tasks">
          {t("notfound.back")}
        </Button>
      }
    >
      {t("notfound.body")}
    </EmptyState>
  );
}
