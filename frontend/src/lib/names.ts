/**
 * A full name split into first and last name, by the same rule as the service's import
 * (kit/tabular/mapping.py `split_full_name`): three words or more are the Russian order
 * "Фамилия Имя Отчество" (surname first; the words after the first name are the middle name), two are
 * "Имя Фамилия" / "First Last", one is a first name. Words are separated by any whitespace.
 */
export interface SplitName {
  first: string | null;
  last: string | null;
  middle: string | null;
}

export function splitFullName(value: string): SplitName {
  const parts = value.split(/\s+/).filter(Boolean);
  if (parts.length >= 3) return { first: parts[1] ?? null, last: parts[0] ?? null, middle: parts.slice(2).join(" ") };
  if (parts.length === 2) return { first: parts[0] ?? null, last: parts[1] ?? null, middle: null };
  return { first: parts[0] ?? null, last: null, middle: null };
}
