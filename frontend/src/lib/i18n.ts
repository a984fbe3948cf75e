// Russian and English strings for the reply and caps texts, chosen from the browser's language (or the
// `invite.lang` key in localStorage: "ru" | "en"). Covers the reply and caps texts, the notifications (toasts,
// desktop notifications, the Settings page) and the simulator banner; the rest of the UI is English for now.
export type Lang = "en" | "ru";

const STRINGS = {
  "replies.label": { en: "Replies", ru: "Ответы" },
  "replies.hint": {
    en: "People who wrote back to the account that contacted them (their first reply; the text is not stored).",
    ru: "Люди, которые ответили аккаунту, написавшему им (первый ответ; текст не сохраняется).",
  },
  "replies.badge": { en: "replied", ru: "ответил" },
  "reason.reply_opt_out": { en: "Replied to opt out", ru: "Отписался ответом" },
  "caps.help": {
    en:
      "Empty means the platform's own caps (Telegram: 5 invites an hour and 50 a day, 40 messages a day per account). " +
      "Telegram publishes no per-account invite or message limits: these defaults are conservative values from " +
      "community experience, not official numbers. The one published cap is modelled: a channel's admins can add only " +
      "its first 200 members. A task can only lower the caps.",
    ru:
      "Пусто — лимиты платформы (Telegram: 5 приглашений в час и 50 в день, 40 сообщений в день на аккаунт). " +
      "Telegram не публикует лимиты приглашений и сообщений на аккаунт: эти значения — осторожные оценки из опыта " +
      "сообщества, а не официальные цифры. Единственный опубликованный лимит учтён: администраторы канала могут " +
      "добавить только первых 200 участников. Задача может только понизить лимиты.",
  },
  // Notifications: toasts and desktop notifications ({name} and the like are filled by tf()).
  "event.task.completed": { en: "Task «{name}» completed", ru: "Задача «{name}» завершена" },
  "event.task.paused": { en: "Task «{name}» paused", ru: "Задача «{name}» приостановлена" },
  "event.task.failed": { en: "Task «{name}» failed", ru: "Задача «{name}» завершилась с ошибкой" },
  "event.account.restricted": { en: "A {platform} account is restricted", ru: "Аккаунт {platform} ограничен" },
  "event.account.unavailable": { en: "A {platform} account is unavailable", ru: "Аккаунт {platform} недоступен" },
  "event.import.completed": { en: "Import finished", ru: "Импорт завершён" },
  "event.import.failed": { en: "Import failed", ru: "Импорт не удался" },
  "event.endpoint.disabled": { en: "A notification destination was turned off", ru: "Получатель уведомлений отключён" },
  "event.other": { en: "Notification: {type}", ru: "Уведомление: {type}" },
  "event.more": { en: "{n} more notifications", ru: "Ещё уведомлений: {n}" },
  "event.more.body": {
    en: "See your tasks and Settings → Delivery log.",
    ru: "Смотрите задачи и Настройки → Журнал доставок.",
  },
  "event.open_task": { en: "Open the task", ru: "Открыть задачу" },
  "event.open_settings": { en: "Open Settings", ru: "Открыть настройки" },
  "event.task.completed.body": { en: "All targets were processed.", ru: "Все получатели обработаны." },
  "event.task.failed.body": { en: "The task stopped with an error.", ru: "Задача остановилась с ошибкой." },
  "event.account.which": { en: "Account {account}.", ru: "Аккаунт {account}." },
  "event.account.until": { en: "Until {until}.", ru: "До {until}." },
  "event.account.body": {
    en: "Its lanes wait; tasks continue with the other accounts.",
    ru: "Его полосы ждут; задачи продолжаются с другими аккаунтами.",
  },
  "event.import.counts": { en: "{accepted} accepted, {rejected} rejected.", ru: "Принято: {accepted}, отклонено: {rejected}." },
  "event.endpoint.body": {
    en: "It failed too many times in a row: {reason}",
    ru: "Слишком много ошибок подряд: {reason}",
  },
  "pause.breaker": {
    en: "the safety breaker tripped: too many accounts were restricted",
    ru: "сработал предохранитель: слишком много аккаунтов ограничено",
  },
  "pause.chat_full": { en: "the chat is full", ru: "чат заполнен" },
  "pause.no_lanes": { en: "no account can work on it now", ru: "сейчас ни один аккаунт не может работать" },
  "pause.reason": { en: "Reason: {reason}", ru: "Причина: {reason}" },

  // Desktop notifications (Settings).
  "desktop.label": { en: "Show desktop notifications", ru: "Показывать уведомления на рабочем столе" },
  "desktop.hint": {
    en: "When this tab is in the background, the same events also appear as system notifications. The browser asks for your permission.",
    ru: "Когда вкладка в фоне, те же события появляются как системные уведомления. Браузер спросит разрешение.",
  },
  "desktop.denied": {
    en: "The browser blocks notifications for this site; allow them in the site settings to turn this on.",
    ru: "Браузер запретил уведомления для этого сайта; разрешите их в настройках сайта, чтобы включить.",
  },
  "desktop.unsupported": { en: "This browser has no desktop notifications.", ru: "Этот браузер не поддерживает уведомления." },

  // The simulator banner (production with simulators).
  "banner.simulated.title": { en: "Simulators in use: {what}", ru: "Используются симуляторы: {what}" },
  "banner.simulated.body": {
    en: "Nothing is really sent: this production service runs with simulators the operator allowed.",
    ru: "Ничего не отправляется на самом деле: этот рабочий сервис запущен с симуляторами, разрешёнными оператором.",
  },

  // The Settings page.
  "settings.title": { en: "Settings", ru: "Настройки" },
  "settings.nav": { en: "Settings", ru: "Настройки" },
  "settings.intro": {
    en: "Where to tell you about your tasks, accounts and imports.",
    ru: "Куда сообщать о ваших задачах, аккаунтах и импортах.",
  },
  "settings.browser": { en: "In this browser", ru: "В этом браузере" },
  "settings.webhooks": { en: "Webhooks", ru: "Вебхуки" },
  "settings.webhooks.hint": {
    en: "Signed POST requests (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) to your server.",
    ru: "Подписанные POST-запросы (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) на ваш сервер.",
  },
  "settings.webhooks.empty": { en: "No webhook endpoints yet.", ru: "Вебхуков пока нет." },
  "settings.add_webhook": { en: "Add webhook", ru: "Добавить вебхук" },
  "settings.url": { en: "URL", ru: "URL" },
  "settings.description": { en: "Description", ru: "Описание" },
  "settings.events": { en: "Events", ru: "События" },
  "settings.events.all": { en: "All events", ru: "Все события" },
  "settings.events.hint": { en: "None ticked = all events.", ru: "Ничего не отмечено — все события." },
  "settings.enabled": { en: "Enabled", ru: "Включён" },
  "settings.disabled": { en: "Disabled", ru: "Отключён" },
  "settings.disabled_reason": { en: "Turned off: {reason}", ru: "Отключён: {reason}" },
  "settings.failures": { en: "Failures in a row: {n}", ru: "Ошибок подряд: {n}" },
  "settings.delete": { en: "Delete", ru: "Удалить" },
  "settings.delete_webhook": { en: "Delete this webhook?", ru: "Удалить этот вебхук?" },
  "settings.delete_channel": { en: "Delete this channel?", ru: "Удалить этот канал?" },
  "settings.delete_body": {
    en: "{what} gets no more notifications. Its delivery log stays.",
    ru: "{what} больше не получит уведомлений. Журнал доставок сохранится.",
  },
  "settings.keep": { en: "Keep as is", ru: "Оставить" },
  "settings.send_test": { en: "Send a test", ru: "Отправить тест" },
  "settings.test_sent": { en: "Test event queued", ru: "Тестовое событие поставлено в очередь" },
  "settings.create": { en: "Create", ru: "Создать" },
  "settings.cancel": { en: "Cancel", ru: "Отмена" },
  "settings.secret.title": { en: "The signing secret of the new webhook", ru: "Секрет подписи нового вебхука" },
  "settings.secret.once": {
    en: "Copy it now: you won't see it again. Your server verifies each request's signature with it.",
    ru: "Скопируйте его сейчас: больше вы его не увидите. Ваш сервер проверяет им подпись каждого запроса.",
  },
  "settings.copy": { en: "Copy", ru: "Копировать" },
  "settings.copied": { en: "Copied", ru: "Скопировано" },
  "settings.done": { en: "I saved it", ru: "Я сохранил" },
  "settings.channels": { en: "Channels", ru: "Каналы" },
  "settings.channels.hint": {
    en: "E-mail, a Telegram bot, Slack and more through an Apprise URL, e.g. mailto://user:pass@example.com, tgram://bottoken/chatid, json://host/path.",
    ru: "Почта, Telegram-бот, Slack и другое через URL Apprise, например mailto://user:pass@example.com, tgram://bottoken/chatid, json://host/path.",
  },
  "settings.channels.empty": { en: "No channels yet.", ru: "Каналов пока нет." },
  "settings.add_channel": { en: "Add channel", ru: "Добавить канал" },
  "settings.label": { en: "Label", ru: "Название" },
  "settings.apprise_url": { en: "Apprise URL", ru: "URL Apprise" },
  "settings.deliveries": { en: "Delivery log", ru: "Журнал доставок" },
  "settings.deliveries.empty": { en: "Nothing was delivered yet.", ru: "Доставок пока не было." },
  "settings.filter.endpoint": { en: "Webhook", ru: "Вебхук" },
  "settings.filter.channel": { en: "Channel", ru: "Канал" },
  "settings.filter.status": { en: "Status", ru: "Статус" },
  "settings.col.when": { en: "Created", ru: "Создано" },
  "settings.col.event": { en: "Event", ru: "Событие" },
  "settings.col.to": { en: "To", ru: "Куда" },
  "settings.col.status": { en: "Status", ru: "Статус" },
  "settings.col.code": { en: "HTTP", ru: "HTTP" },
  "settings.col.attempts": { en: "Attempts", ru: "Попытки" },
  "settings.col.next": { en: "Next attempt", ru: "Следующая попытка" },
  "settings.col.error": { en: "Error", ru: "Ошибка" },
  "settings.redeliver": { en: "Redeliver", ru: "Доставить снова" },
  "settings.redelivered": { en: "Queued for delivery again", ru: "Снова поставлено в очередь" },
  "settings.unavailable": {
    en: "This service has no notifications yet (it answers 404). Update it to configure webhooks and channels.",
    ru: "Этот сервис пока не поддерживает уведомления (ответ 404). Обновите его, чтобы настроить вебхуки и каналы.",
  },
  "delivery.pending": { en: "Pending", ru: "Ожидает" },
  "delivery.retrying": { en: "Retrying", ru: "Повтор" },
  "delivery.succeeded": { en: "Delivered", ru: "Доставлено" },
  "delivery.failed": { en: "Failed", ru: "Ошибка" },
} as const;

export type StringKey = keyof typeof STRINGS;

/** Every key, for the test that checks each has both languages and the same placeholders. */
export const STRING_KEYS = Object.keys(STRINGS) as StringKey[];

export function currentLang(): Lang {
  try {
    const chosen = globalThis.localStorage?.getItem("invite.lang");
    if (chosen === "ru" || chosen === "en") return chosen;
  } catch {
    /* storage may be unavailable (privacy mode) */
  }
  const nav = globalThis.navigator?.language ?? "en";
  return nav.toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function t(key: StringKey, lang: Lang = currentLang()): string {
  return STRINGS[key][lang];
}

/** `t` with `{name}` placeholders filled from `vars` (a missing one stays as written, so it shows in review). */
export function tf(key: StringKey, vars: Record<string, string | number>, lang: Lang = currentLang()): string {
  return t(key, lang).replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}
