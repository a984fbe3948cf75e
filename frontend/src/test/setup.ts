import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach, vi } from "vitest";
import i18n from "../i18n";

// findBy*/waitFor wait on a condition; a loaded CI box can take seconds to render a page, so the
// deadline is a hang guard (the test timeout is 30 s), not a speed requirement.
configure({ asyncUtilTimeout: 15_000 });

// Tests read English unless they switch (and a switch never leaks into the next test).
void i18n.changeLanguage("en");
afterEach(async () => {
  cleanup();
  if (i18n.language !== "en") await i18n.changeLanguage("en");
});

// jsdom lacks these; Mantine uses them.
Object.defineProperty(window, "matchMedia", {
  writable: true,
  value: vi.fn().mockImplementation((query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: vi.fn(),
    removeListener: vi.fn(),
    addEventListener: vi.fn(),
    removeEventListener: vi.fn(),
    dispatchEvent: vi.fn(),
  })),
});
class RO {
  observe() {}
  unobserve() {}
  disconnect() {}
}
(globalThis as unknown as { ResizeObserver: typeof RO }).ResizeObserver = RO;
window.HTMLElement.prototype.scrollIntoView = function () {};
const style = window.getComputedStyle;
window.getComputedStyle = (el: Element) => style(el);
// document.fonts (Mantine's autosize textarea listens to it).
if (!("fonts" in document)) {
  Object.defineProperty(document, "fonts", {
    value: { addEventListener: () => {}, removeEventListener: () => {}, ready: Promise.resolve() },
  });
}
