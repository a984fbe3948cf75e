import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DESKTOP_KEY, desktopState, disableDesktop, enableDesktop, notifyDesktop } from "./desktop";

/** A stand-in for the browser's Notification: a permission the test sets, and what the user answers. */
function installNotification(permission: NotificationPermission, answer: NotificationPermission = "granted") {
  const created: { title: string; options?: NotificationOptions }[] = [];
  const Fake = vi.fn(function (this: { close: () => void; onclick: unknown }, title: string, options?: NotificationOptions) {
    created.push({ title, options });
    this.close = () => {};
  }) as unknown as typeof Notification & { permission: NotificationPermission };
  Object.assign(Fake, {
    permission,
    requestPermission: vi.fn(async () => {
      (Fake as { permission: NotificationPermission }).permission = answer;
      return answer;
    }),
  });
  vi.stubGlobal("Notification", Fake);
  return { Fake, created, requestPermission: (Fake as unknown as { requestPermission: ReturnType<typeof vi.fn> }).requestPermission };
}

function setHidden(hidden: boolean) {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
}

beforeEach(() => {
  localStorage.removeItem(DESKTOP_KEY);
  setHidden(true);
});
afterEach(() => {
  vi.unstubAllGlobals();
  setHidden(false);
});

describe("desktop notifications", () => {
  it("never asks the browser until the user turns them on", () => {
    const { requestPermission, created } = installNotification("default");
    expect(desktopState()).toBe("off");
    expect(notifyDesktop("Task «A» completed", "")).toBe(false);
    expect(requestPermission).not.toHaveBeenCalled();
    expect(created).toHaveLength(0);
  });

  it("asks on the user's click, remembers a grant, and then notifies while the page is hidden", async () => {
    const { requestPermission, created } = installNotification("default", "granted");
    expect(await enableDesktop()).toBe("on");
    expect(requestPermission).toHaveBeenCalledTimes(1);
    expect(localStorage.getItem(DESKTOP_KEY)).toBe("on");
    expect(notifyDesktop("Task «A» completed", "All targets were processed.", "t1")).toBe(true);
    expect(created).toEqual([{ title: "Task «A» completed", options: { body: "All targets were processed.", tag: "t1" } }]);
  });

  it("stays quiet while the page is visible: the toast is enough", async () => {
    const { created } = installNotification("default", "granted");
    await enableDesktop();
    setHidden(false);
    expect(notifyDesktop("Task «A» completed", "")).toBe(false);
    expect(created).toHaveLength(0);
  });

  it("remembers nothing when the user refuses in the browser's prompt", async () => {
    const { created } = installNotification("default", "denied");
    expect(await enableDesktop()).toBe("denied");
    expect(localStorage.getItem(DESKTOP_KEY)).toBeNull();
    expect(notifyDesktop("x", "")).toBe(false);
    expect(created).toHaveLength(0);
  });

  it("does not ask again when the browser already granted, and turning off stops them", async () => {
    const { requestPermission, created } = installNotification("granted");
    expect(desktopState()).toBe("off"); // granted for the site, but this user did not opt in here
    expect(notifyDesktop("x", "")).toBe(false);
    expect(await enableDesktop()).toBe("on");
    expect(requestPermission).not.toHaveBeenCalled();
    disableDesktop();
    expect(desktopState()).toBe("off");
    expect(notifyDesktop("x", "")).toBe(false);
    expect(created).toHaveLength(0);
  });

  it("says so in a browser without the Notification API", async () => {
    vi.stubGlobal("Notification", undefined);
    expect(desktopState()).toBe("unsupported");
    expect(await enableDesktop()).toBe("unsupported");
    expect(notifyDesktop("x", "")).toBe(false);
  });
});
