import { SegmentedControl } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { currentLang, LANG_KEY } from ".";

/** EN | RU, remembered in localStorage (the detector reads it first on the next visit). */
export function LanguageSwitch() {
  const { i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label="Language / Язык"
      value={currentLang()}
      onChange={(lng) => {
        localStorage.setItem(LANG_KEY, lng);
        void i18n.changeLanguage(lng);
      }}
      data={[
        { value: "en", label: "EN" },
        { value: "ru", label: "RU" },
      ]}
    />
  );
}
