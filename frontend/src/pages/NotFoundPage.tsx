import { Button } from "@mantine/core";
import { IconMapOff } from "@tabler/icons-react";
import { Link } from "react-router";
import { EmptyState } from "../components/States";

export function NotFoundPage() {
  return (
    <EmptyState
      icon={<IconMapOff size={24} />}
      title="There is no such page"
      action={
        <Button component={Link} to="/tasks">
          Go to tasks
        </Button>
      }
    >
      The link may be old, or the task was deleted.
    </EmptyState>
  );
}
