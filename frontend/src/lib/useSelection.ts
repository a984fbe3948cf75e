import { useState } from "react";

/** Rows picked for a bulk action, kept across pages; `toggleAll` picks or drops the page shown. */
export function useSelection<Id>(items: { id: Id }[]) {
  const [selected, setSelected] = useState<Set<Id>>(new Set());
  const toggle = (id: Id) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const allOnPage = items.length > 0 && items.every((t) => selected.has(t.id));
  const toggleAll = () =>
    setSelected((s) => {
      const n = new Set(s);
      for (const t of items) {
        if (allOnPage) n.delete(t.id);
        else n.add(t.id);
      }
      return n;
    });
  const clear = () => setSelected(new Set());
  return { selected, toggle, allOnPage, toggleAll, clear };
}
