import { lazy, Suspense, useState } from "react";
import { createHashRouter, Navigate, RouterProvider } from "react-router";
import { RequireAuth } from "./auth/RequireAuth";
import { SignInPage } from "./auth/SignInPage";
import { Shell } from "./layout/Shell";
import { NotFoundPage } from "./pages/NotFoundPage";
import { LoadingState } from "./components/States";
import { TasksPage } from "./pages/tasks/TasksPage";
import { makeQueryClient, Providers } from "./providers";

// Pages past the first screen load on demand, so signing in and the task list come up fast.
const TaskFormPage = lazy(() => import("./pages/task-form/TaskFormPage").then((m) => ({ default: m.TaskFormPage })));
const TaskPage = lazy(() => import("./pages/task/TaskPage").then((m) => ({ default: m.TaskPage })));
const SuppressionsPage = lazy(() =>
  import("./pages/suppressions/SuppressionsPage").then((m) => ({ default: m.SuppressionsPage })),
);
const AccountsPage = lazy(() => import("./pages/accounts/AccountsPage").then((m) => ({ default: m.AccountsPage })));
const AudiencesPage = lazy(() => import("./pages/audiences/AudiencesPage").then((m) => ({ default: m.AudiencesPage })));
const AudiencePage = lazy(() => import("./pages/audiences/AudiencePage").then((m) => ({ default: m.AudiencePage })));
const ContactPage = lazy(() => import("./pages/audiences/ContactPage").then((m) => ({ default: m.ContactPage })));
const SettingsPage = lazy(() => import("./pages/settings/SettingsPage").then((m) => ({ default: m.SettingsPage })));
const page = (el: React.ReactNode) => <Suspense fallback={<LoadingState />}>{el}</Suspense>;

// Hash routes: the page stays at the mount's root, where the build's relative asset URLs (vite.config.ts) resolve.
export const routes = [
  { path: "/sign-in", element: <SignInPage /> },
  {
    element: (
      <RequireAuth>
        <Shell />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <Navigate to="/tasks" replace /> },
      { path: "/tasks", element: <TasksPage /> },
      { path: "/tasks/new", element: page(<TaskFormPage />) },
      { path: "/tasks/:taskId", element: page(<TaskPage />) },
      { path: "/tasks/:taskId/edit", element: page(<TaskFormPage />) },
      { path: "/audiences", element: page(<AudiencesPage />) },
      { path: "/audiences/:audienceId", element: page(<AudiencePage />) },
      { path: "/contacts/:contactId", element: page(<ContactPage />) },
      { path: "/accounts", element: page(<AccountsPage />) },
      { path: "/suppressions", element: page(<SuppressionsPage />) },
      { path: "/settings", element: page(<SettingsPage />) },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];

export function App() {
  const [client] = useState(makeQueryClient);
  const [router] = useState(() => createHashRouter(routes));
  return (
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>
  );
}
