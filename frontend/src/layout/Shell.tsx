import { AppShell, Avatar, Burger, Group, Menu, NavLink, ScrollArea, Text, ThemeIcon, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconChevronDown, IconListCheck, IconLogout, IconPlus, IconSend, IconSettings, IconShieldOff, IconUsers, IconUsersGroup } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { Link, Outlet, useLocation } from "react-router";
import { useSession } from "../auth/RequireAuth";
import { signOut } from "../auth/session";
import { LanguageSwitch } from "../i18n/LanguageSwitch";
import { NotificationFeed } from "../notify/NotificationFeed";
import { SandboxBanner } from "./SandboxBanner";

export function Shell() {
  const { t } = useTranslation("shell");
  const [opened, { toggle, close }] = useDisclosure(false);
  const session = useSession();
  const { pathname } = useLocation();

  const nav = [
    { to: "/tasks", label: t("nav.tasks"), icon: <IconListCheck size={18} />, active: pathname === "/tasks" || /^\/tasks\/(?!new)/.test(pathname) },
    { to: "/tasks/new", label: t("nav.new_task"), icon: <IconPlus size={18} />, active: pathname === "/tasks/new" },
    { to: "/audiences", label: t("nav.audiences"), icon: <IconUsersGroup size={18} />, active: pathname.startsWith("/audiences") || pathname.startsWith("/contacts") },
    { to: "/accounts", label: t("nav.accounts"), icon: <IconUsers size={18} />, active: pathname.startsWith("/accounts") },
    { to: "/suppressions", label: t("nav.suppressions"), icon: <IconShieldOff size={18} />, active: pathname.startsWith("/suppressions") },
    { to: "/settings", label: t("nav.settings"), icon: <IconSettings size={18} />, active: pathname.startsWith("/settings") },
  ];

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("menu")} />
            <Link to="/tasks" style={{ textDecoration: "none", color: "inherit" }}>
              <Group gap={8} wrap="nowrap">
                <ThemeIcon size={30} radius="md">
                  <IconSend size={18} />
                </ThemeIcon>
                <Text fw={700}>{t("app_name")}</Text>
              </Group>
            </Link>
          </Group>
          <Group gap="sm" wrap="nowrap">
          <LanguageSwitch />
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <UnstyledButton aria-label={t("user_menu")} data-testid="user-menu">
                <Group gap={6} wrap="nowrap">
                  <Avatar size={30} radius="xl" color="blue">
                    {(session?.user ?? "?").slice(0, 2).toUpperCase()}
                  </Avatar>
                  <Text size="sm" visibleFrom="xs" maw={160} truncate>
                    {session?.user}
                  </Text>
                  <IconChevronDown size={14} />
                </Group>
              </UnstyledButton>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>
                {session?.mode === "dev" ? t("signed_in.dev") : session?.mode === "gateway" ? t("signed_in.gateway") : t("signed_in.token")}
              </Menu.Label>
              <Menu.Item leftSection={<IconLogout size={16} />} onClick={() => signOut()}>
                {t("sign_out")}
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <ScrollArea>
          {nav.map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              leftSection={item.icon}
              active={item.active}
              onClick={close}
            />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <NotificationFeed />
        <SandboxBanner />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
