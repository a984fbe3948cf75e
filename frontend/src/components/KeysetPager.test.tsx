import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { renderUI } from "../test/render";
import { KeysetPager, type KeysetPage, useCursorStack } from "./KeysetPager";

// A list of 5 rows served 2 a page, like the API: the cursor is the index of the page's first row.
const ROWS = ["a", "b", "c", "d", "e"];
const PAGE_SIZE = 2;
function serve(cursor: string | undefined): KeysetPage {
  const start = Number(cursor ?? 0);
  const end = start + PAGE_SIZE;
  return { items: ROWS.slice(start, end), total: ROWS.length, next_cursor: end < ROWS.length ? String(end) : null };
}

function Harness() {
  const [filter, setFilter] = useState("all");
  const pages = useCursorStack(filter);
  return (
    <>
      <button onClick={() => setFilter("other")}>Change filter</button>
      <KeysetPager pages={pages} data={serve(pages.cursor)} pageSize={PAGE_SIZE} noun="rows" />
    </>
  );
}

const summary = () => screen.getByTestId("pager-summary").textContent;
const button = (name: string) => screen.getByRole("button", { name });

describe("KeysetPager", () => {
  it("shows the range and walks the pages forward and back", async () => {
    const user = userEvent.setup();
    renderUI(<Harness />);
    expect(summary()).toBe("1–2 of 5 rows");
    expect(button("Previous")).toBeDisabled();
    expect(button("Next")).toBeEnabled();

    await user.click(button("Next"));
    expect(summary()).toBe("3–4 of 5 rows");
    expect(button("Previous")).toBeEnabled();

    await user.click(button("Next"));
    expect(summary()).toBe("5–5 of 5 rows");
    expect(button("Next")).toBeDisabled(); // no next_cursor on the last page

    await user.click(button("Previous"));
    expect(summary()).toBe("3–4 of 5 rows");
  });

  it("starts over from the first page when the list's filter changes", async () => {
    const user = userEvent.setup();
    renderUI(<Harness />);
    await user.click(button("Next"));
    expect(summary()).toBe("3–4 of 5 rows");
    await user.click(button("Change filter"));
    expect(summary()).toBe("1–2 of 5 rows");
    expect(button("Previous")).toBeDisabled();
  });

  it("renders nothing while loading or for an empty list", () => {
    const pages = { cursor: undefined, page: 1, next: () => {}, prev: () => {}, first: () => {} };
    for (const data of [undefined, { items: [], total: 0, next_cursor: null }]) {
      const { container, unmount } = renderUI(<KeysetPager pages={pages} data={data} pageSize={10} />);
      expect(screen.queryByTestId("pager-summary")).toBeNull();
      expect(container.querySelector("button")).toBeNull();
      unmount();
    }
  });
});
