import { describe, expect, it } from "vitest";
import { splitFullName } from "./names";

describe("splitFullName (the import's full_name rule)", () => {
  it("reads three Russian words as surname, first name, patronymic", () => {
    expect(splitFullName("Иванов Иван Иванович")).toEqual({ first: "Иван", last: "Иванов", middle: "Иванович" });
  });

  it("reads two words as first name then last name, in Russian and English", () => {
    expect(splitFullName("Иван Петров")).toEqual({ first: "Иван", last: "Петров", middle: null });
    expect(splitFullName("John Smith")).toEqual({ first: "John", last: "Smith", middle: null });
  });

  it("takes a single name as the first name", () => {
    expect(splitFullName("Анна")).toEqual({ first: "Анна", last: null, middle: null });
    expect(splitFullName("Madonna")).toEqual({ first: "Madonna", last: null, middle: null });
  });

  it("ignores extra spaces, tabs and the empty string", () => {
    expect(splitFullName("  John   Smith \t")).toEqual({ first: "John", last: "Smith", middle: null });
    expect(splitFullName(" Иванов  Иван   Иванович ")).toEqual({ first: "Иван", last: "Иванов", middle: "Иванович" });
    expect(splitFullName("   ")).toEqual({ first: null, last: null, middle: null });
  });

  it("keeps every word after the first name of a longer name as the middle name", () => {
    expect(splitFullName("Салтыков Михаил Евграфович Щедрин")).toEqual({ first: "Михаил", last: "Салтыков", middle: "Евграфович Щедрин" });
  });
});
