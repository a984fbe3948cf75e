# ruff: noqa: RUF001  (the Russian sentences are Cyrillic on purpose)
"""The outcome reasons catalogue: every error code the engine or an adapter can record on a target or a
log row, with what it means to a user who is not technical, in English and Russian (contract §2).

``kind``: "success" — the call did what was asked; "benign" — nothing went wrong for the user (already a
member, suppressed, opted out); "retryable" — back to pending can help (a transient fault, a platform
wait, an account problem); "final" — a retry cannot help (a deleted user, a privacy refusal, a name that
does not exist).
"""

from __future__ import annotations

from typing import Literal

from invite_service.statistics.schemas import ReasonCatalogue, ReasonOut

Kind = Literal["success", "benign", "retryable", "final"]

# code -> (kind, English, Russian)
REASONS: dict[str, tuple[Kind, str, str]] = {
    # -- Telegram's own errors -------------------------------------------------------------------
    # Meanings from Telethon's list (telethon_generator/data/errors.csv), core.telegram.org/api/errors
    # and the "Possible errors" of core.telegram.org/method/channels.inviteToChannel,
    # messages.addChatUser and messages.sendMessage; each row's own source is in
    # adapters/telegram/error_table.py. "X" stands for the number Telegram puts in the name.
    # Platform waits (420 FLOOD): the account must pause; the target is tried again by itself.
    "FLOOD_WAIT_X": (
        "retryable",
        "Telegram asked this account to pause for a while; the person will be tried again after the pause.",
        "Telegram попросил этот аккаунт сделать паузу; после неё человеку попробуем отправить снова.",
    ),
    "FLOOD_PREMIUM_WAIT_X": (
        "retryable",
        "Telegram asked this account to pause for a while; the person will be tried again after the pause.",
        "Telegram попросил этот аккаунт сделать паузу; после неё человеку попробуем отправить снова.",
    ),
    "SLOWMODE_WAIT_X": (
        "retryable",
        "Slow mode is on in this chat, so the account has to wait before the next send.",
        "В чате включён медленный режим — аккаунт должен подождать перед следующей отправкой.",
    ),
    "FLOOD_TEST_PHONE_WAIT_X": (
        "retryable",
        "Telegram asked this test account to pause for a while.",
        "Telegram попросил этот тестовый аккаунт сделать паузу.",
    ),
    # Telegram's server errors (5xx and its negative codes): it may or may not have acted.
    "TIMEOUT": (
        "retryable",
        "Telegram did not answer in time; the send may or may not have gone through.",
        "Telegram не ответил вовремя; отправка могла пройти, а могла и нет.",
    ),
    "-500": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    "-503": (
        "retryable",
        "Telegram did not answer in time; the send may or may not have gone through.",
        "Telegram не ответил вовремя; отправка могла пройти, а могла и нет.",
    ),
    "INTERNAL": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    "RPC_CALL_FAIL": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    "RPC_MCGET_FAIL": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    "WORKER_BUSY_TOO_LONG_RETRY": (
        "retryable",
        "Telegram's servers were too busy; trying again later usually works.",
        "Серверы Telegram были перегружены; обычно помогает повторить попытку позже.",
    ),
    "INTERDC_X_CALL_ERROR": (
        "retryable",
        "Telegram had an internal error between its data centres; trying again later usually works.",
        "Внутренняя ошибка между дата-центрами Telegram; обычно помогает повторить попытку позже.",
    ),
    "INTERDC_X_CALL_RICH_ERROR": (
        "retryable",
        "Telegram had an internal error between its data centres; trying again later usually works.",
        "Внутренняя ошибка между дата-центрами Telegram; обычно помогает повторить попытку позже.",
    ),
    "MEMBER_OCCUPY_PRIMARY_LOC_FAILED": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    "MSG_WAIT_FAILED": (
        "retryable",
        "Telegram could not finish an earlier request first; trying again later usually works.",
        "Telegram не успел завершить предыдущий запрос; обычно помогает повторить попытку позже.",
    ),
    "HISTORY_GET_FAILED": (
        "retryable",
        "Telegram could not read the chat history; trying again later usually works.",
        "Telegram не смог прочитать историю чата; обычно помогает повторить попытку позже.",
    ),
    "NEED_MEMBER_INVALID": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    "NEED_CHAT_INVALID": (
        "retryable",
        "Telegram had an internal error; trying again later usually works.",
        "Внутренняя ошибка Telegram; обычно помогает повторить попытку позже.",
    ),
    # The account is limited for a while (spam reports, too many actions): other accounts can go on.
    "PEER_FLOOD": (
        "retryable",
        "Telegram limited this account for too many actions or spam reports; another account can try.",
        "Telegram ограничил этот аккаунт за слишком частые действия или жалобы на спам; "
        "попробовать может другой аккаунт.",
    ),
    "USER_RESTRICTED": (
        "retryable",
        "This account is restricted by Telegram after spam reports; another account can try.",
        "Этот аккаунт ограничен Telegram из-за жалоб на спам; попробовать может другой аккаунт.",
    ),
    "USER_BANNED_IN_CHANNEL": (
        "retryable",
        "This account is not allowed to post in groups and channels; another account can try.",
        "Этому аккаунту запрещено писать в группах и каналах; попробовать может другой аккаунт.",
    ),
    "PHONE_NUMBER_BANNED": (
        "retryable",
        "This account's phone number is banned by Telegram; another account can try.",
        "Номер телефона этого аккаунта заблокирован Telegram; попробовать может другой аккаунт.",
    ),
    "FROZEN_METHOD_INVALID": (
        "retryable",
        "This account is frozen by Telegram; another account can try.",
        "Этот аккаунт заморожен Telegram; попробовать может другой аккаунт.",
    ),
    # The account cannot be used until its owner acts.
    "AUTH_KEY_UNREGISTERED": (
        "retryable",
        "This account is logged out; log it in again or let another account try.",
        "Аккаунт вышел из Telegram; войдите в него снова или дайте попробовать другому аккаунту.",
    ),
    "AUTH_KEY_INVALID": (
        "retryable",
        "This account's session is no longer valid; log it in again or let another account try.",
        "Сессия аккаунта больше не действует; войдите в него снова или дайте попробовать другому аккаунту.",
    ),
    "AUTH_KEY_DUPLICATED": (
        "retryable",
        "This account's session was used from two places at once and was stopped; log it in again.",
        "Сессию аккаунта использовали из двух мест одновременно, и её остановили; войдите в аккаунт снова.",
    ),
    "AUTH_KEY_PERM_EMPTY": (
        "retryable",
        "This account's session is not fully set up; log it in again.",
        "Сессия аккаунта настроена не до конца; войдите в аккаунт снова.",
    ),
    "SESSION_REVOKED": (
        "retryable",
        "The account's owner ended this session; log it in again or let another account try.",
        "Владелец аккаунта завершил эту сессию; войдите снова или дайте попробовать другому аккаунту.",
    ),
    "SESSION_EXPIRED": (
        "retryable",
        "This account's session has expired; log it in again.",
        "Сессия аккаунта истекла; войдите в аккаунт снова.",
    ),
    "SESSION_PASSWORD_NEEDED": (
        "retryable",
        "This account needs its two-step verification password before it can be used.",
        "Для этого аккаунта нужно ввести пароль двухэтапной проверки.",
    ),
    "USER_DEACTIVATED": (
        "retryable",
        "This account was deleted by its owner; another account can try.",
        "Владелец удалил этот аккаунт; попробовать может другой аккаунт.",
    ),
    "USER_DEACTIVATED_BAN": (
        "retryable",
        "Telegram banned this account for good; another account can try.",
        "Telegram навсегда заблокировал этот аккаунт; попробовать может другой аккаунт.",
    ),
    "USER_ALREADY_PARTICIPANT": (
        "benign",
        "This person is already a member of the chat.",
        "Этот человек уже состоит в чате.",
    ),
    "RANDOM_ID_DUPLICATE": (
        "success",
        "The message had already been delivered.",
        "Сообщение уже было доставлено.",
    ),
    # The person's choice or state: another try will not change it.
    "USER_PRIVACY_RESTRICTED": (
        "final",
        "This person's privacy settings do not allow them to be added to chats.",
        "Настройки приватности этого человека не позволяют добавлять его в чаты.",
    ),
    "USER_NOT_MUTUAL_CONTACT": (
        "final",
        "This person can only be added back by a mutual contact — they have probably left the chat.",
        "Вернуть этого человека может только взаимный контакт — скорее всего, он сам вышел из чата.",
    ),
    "USER_CHANNELS_TOO_MUCH": (
        "final",
        "This person is already in too many groups and channels to join another.",
        "Этот человек уже состоит в слишком большом числе групп и каналов.",
    ),
    "USER_KICKED": (
        "final",
        "This person was removed from the chat by its admins and cannot be added back.",
        "Администраторы удалили этого человека из чата, поэтому добавить его снова нельзя.",
    ),
    "USER_BLOCKED": (
        "final",
        "This person is blocked and cannot be added.",
        "Этот человек заблокирован, добавить его нельзя.",
    ),
    "USER_BOT": (
        "final",
        "This is a bot; bots can only be added to channels as admins.",
        "Это бот; боты добавляются в каналы только как администраторы.",
    ),
    "BOT_GROUPS_BLOCKED": (
        "final",
        "This bot cannot be added to groups.",
        "Этого бота нельзя добавлять в группы.",
    ),
    "BOTS_TOO_MUCH": (
        "final",
        "This is a bot, and the chat already has too many bots.",
        "Это бот, а в чате уже слишком много ботов.",
    ),
    "INPUT_USER_DEACTIVATED": (
        "final",
        "This person's Telegram account has been deleted.",
        "Аккаунт этого человека в Telegram удалён.",
    ),
    "USERNAME_NOT_OCCUPIED": (
        "final",
        "No one on Telegram has this username.",
        "В Telegram нет пользователя с таким именем.",
    ),
    "USERNAME_INVALID": (
        "final",
        "This username is not valid.",
        "Это имя пользователя написано с ошибкой.",
    ),
    "PHONE_NOT_OCCUPIED": (
        "final",
        "No one on Telegram uses this phone number.",
        "В Telegram нет пользователя с этим номером телефона.",
    ),
    "PHONE_NUMBER_INVALID": (
        "final",
        "This phone number is not valid.",
        "Этот номер телефона указан с ошибкой.",
    ),
    "USER_IS_BOT": (
        "final",
        "This is a bot, and bots cannot be messaged this way.",
        "Это бот, таким способом ему написать нельзя.",
    ),
    "YOU_BLOCKED_USER": (
        "retryable",
        "This account has blocked the person; unblock them or let another account try.",
        "Этот аккаунт заблокировал человека; разблокируйте его или дайте попробовать другому аккаунту.",
    ),
    "PRIVACY_PREMIUM_REQUIRED": (
        "final",
        "This person accepts messages only from Telegram Premium accounts.",
        "Этот человек принимает сообщения только от аккаунтов с Telegram Premium.",
    ),
    "ALLOW_PAYMENT_REQUIRED": (
        "final",
        "This person accepts only paid messages; tasks never pay.",
        "Этот человек принимает только платные сообщения, а задачи никогда не платят.",
    ),
    "ALLOW_PAYMENT_REQUIRED_X": (
        "final",
        "This person accepts only paid messages; tasks never pay.",
        "Этот человек принимает только платные сообщения, а задачи никогда не платят.",
    ),
    "PREMIUM_ACCOUNT_REQUIRED": (
        "final",
        "Only a Telegram Premium account can do this for this person.",
        "Для этого человека такое может сделать только аккаунт с Telegram Premium.",
    ),
    # The message text: editing the template and sending again helps.
    "MESSAGE_EMPTY": (
        "retryable",
        "The message came out empty for this person; check the template, then send again.",
        "Для этого человека сообщение получилось пустым; проверьте шаблон и отправьте снова.",
    ),
    "MESSAGE_TOO_LONG": (
        "retryable",
        "The message is too long for Telegram; shorten the template, then send again.",
        "Сообщение слишком длинное для Telegram; сократите шаблон и отправьте снова.",
    ),
    "ENTITIES_TOO_LONG": (
        "retryable",
        "The message has too much formatting; simplify the template, then send again.",
        "В сообщении слишком много оформления; упростите шаблон и отправьте снова.",
    ),
    "CHAT_MEMBER_ADD_FAILED": (
        "retryable",
        "Telegram could not add this person to the chat; if it happens to many people, check the chat.",
        "Telegram не смог добавить этого человека в чат; если так со многими — проверьте настройки чата.",
    ),
    "USER_IS_BLOCKED": (
        "final",
        "This person has blocked the account; they will not be contacted again.",
        "Этот человек заблокировал аккаунт; больше ему писать не будем.",
    ),
    "USER_ID_INVALID": (
        "final",
        "This user id does not point to anyone this account can reach.",
        "По этому ID не удалось найти человека, доступного этому аккаунту.",
    ),
    "PEER_ID_INVALID": (
        "final",
        "This person could not be found by the account (an unknown id or number).",
        "Аккаунт не смог найти этого человека (неизвестный ID или номер).",
    ),
    # The chat (the task's destination) is the problem: fix it, then send again.
    "CHAT_ADMIN_REQUIRED": (
        "retryable",
        "The account is not an admin with the right to add members; give it that right, then retry.",
        "Аккаунт не администратор с правом добавлять участников; выдайте это право и повторите.",
    ),
    "CHAT_ADMIN_INVITE_REQUIRED": (
        "retryable",
        "The account has no right to add members to the chat; give it that right, then retry.",
        "У аккаунта нет права добавлять участников в чат; выдайте это право и повторите.",
    ),
    "CHAT_WRITE_FORBIDDEN": (
        "retryable",
        "The account is not allowed to write in this chat.",
        "Аккаунту запрещено писать в этот чат.",
    ),
    "CHANNEL_PRIVATE": (
        "retryable",
        "The chat is private, or the account was removed from it.",
        "Чат закрытый, или аккаунт из него удалили.",
    ),
    "CHANNEL_INVALID": (
        "retryable",
        "The destination channel is wrong; check the task's chat.",
        "Канал назначения указан неверно; проверьте чат в задаче.",
    ),
    "CHAT_INVALID": (
        "retryable",
        "The destination chat is wrong; check the task's chat.",
        "Чат назначения указан неверно; проверьте чат в задаче.",
    ),
    "CHAT_ID_INVALID": (
        "retryable",
        "The destination chat is wrong; check the task's chat.",
        "Чат назначения указан неверно; проверьте чат в задаче.",
    ),
    "CHAT_RESTRICTED": (
        "retryable",
        "The chat is restricted by Telegram and cannot be used.",
        "Чат ограничен Telegram, использовать его нельзя.",
    ),
    "USERS_TOO_MUCH": (
        "retryable",
        "The chat is full, or admins have already added the 200 members Telegram allows; "
        "others must join by link.",
        "Чат заполнен, или администраторы уже добавили 200 участников — больше Telegram не разрешает; "
        "остальным нужно вступать по ссылке.",
    ),
    "CHANNEL_MONOFORUM_UNSUPPORTED": (
        "retryable",
        "The destination is a channel's direct-messages section, which cannot take invites.",
        "Назначение — раздел личных сообщений канала, туда нельзя приглашать.",
    ),
    # Telegram's answer codes seen without an error name (the class alone).
    "HTTP_401": (
        "retryable",
        "The account's session is not authorised; log it in again.",
        "Сессия аккаунта не авторизована; войдите в аккаунт снова.",
    ),
    "HTTP_420": (
        "retryable",
        "Telegram asked this account to pause for a while.",
        "Telegram попросил этот аккаунт сделать паузу.",
    ),
    "HTTP_500": (
        "retryable",
        "Telegram had a server error; the send may or may not have gone through.",
        "Ошибка на сервере Telegram; отправка могла пройти, а могла и нет.",
    ),
    "HTTP_502": (
        "retryable",
        "Telegram had a server error; the send may or may not have gone through.",
        "Ошибка на сервере Telegram; отправка могла пройти, а могла и нет.",
    ),
    "HTTP_503": (
        "retryable",
        "Telegram was unavailable; the send may or may not have gone through.",
        "Telegram был недоступен; отправка могла пройти, а могла и нет.",
    ),
    "HTTP_504": (
        "retryable",
        "Telegram did not answer in time; the send may or may not have gone through.",
        "Telegram не ответил вовремя; отправка могла пройти, а могла и нет.",
    ),
    "ACTIVE_USER_REQUIRED": (
        "retryable",
        "This account has to be used in a Telegram app before it can act; log in to it there.",
        "Этим аккаунтом нужно сначала воспользоваться в приложении Telegram; войдите в него там.",
    ),
    "UNKNOWN_ERROR": (
        "retryable",
        "Telegram refused without saying why.",
        "Telegram отказал, не объяснив причину.",
    ),
    # -- Telegram's answer to an invite that left a person out ("missing invitee") ----------------
    "MISSING_INVITEE_PRIVACY": (
        "final",
        "This person's privacy settings do not allow them to be added to chats.",
        "Настройки приватности этого человека не позволяют добавлять его в чаты.",
    ),
    "MISSING_INVITEE_PREMIUM_WOULD_ALLOW": (
        "final",
        "This person lets only Telegram Premium accounts add them to chats.",
        "Этот человек разрешает добавлять себя в чаты только аккаунтам с Telegram Premium.",
    ),
    "MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM": (
        "final",
        "This person cannot be added, and accepts messages only from Telegram Premium accounts.",
        "Этого человека нельзя добавить, а сообщения он принимает только от аккаунтов с Telegram Premium.",
    ),
    "INVITE_NO_CHANGE": (
        "retryable",
        "Telegram accepted the invite but nothing changed; we could not confirm the person joined.",
        "Telegram принял приглашение, но ничего не изменилось; подтвердить, что человек вступил, не удалось.",
    ),
    # -- the Integration Service (our connection to Telegram) -------------------------------------
    "INTEGRATION_AUTH_FAILED": (
        "retryable",
        "The service that connects to Telegram refused our credentials; an administrator must fix it.",
        "Сервис подключения к Telegram не принял наши учётные данные; нужна помощь администратора.",
    ),
    "INTEGRATION_THROTTLED": (
        "retryable",
        "The service that connects to Telegram asked us to slow down; nothing was sent.",
        "Сервис подключения к Telegram попросил снизить темп; ничего не отправлено.",
    ),
    "INTEGRATION_UNREACHABLE": (
        "retryable",
        "The service that connects to Telegram could not be reached; nothing was sent.",
        "Не удалось связаться с сервисом подключения к Telegram; ничего не отправлено.",
    ),
    "INTEGRATION_TIMEOUT": (
        "retryable",
        "The service that connects to Telegram did not answer in time; the send may have gone through.",
        "Сервис подключения к Telegram не ответил вовремя; отправка могла пройти.",
    ),
    "INTEGRATION_CONNECTION_LOST": (
        "retryable",
        "The connection to the Telegram service broke during the send; it may have gone through.",
        "Связь с сервисом Telegram оборвалась во время отправки; она могла пройти.",
    ),
    "OPERATION_INTERRUPTED": (
        "retryable",
        "The service that connects to Telegram stopped during the send; it may have gone through.",
        "Сервис подключения к Telegram остановился во время отправки; она могла пройти.",
    ),
    "BAD_RESPONSE": (
        "retryable",
        "The service that connects to Telegram gave an answer we could not read.",
        "Сервис подключения к Telegram прислал ответ, который не удалось разобрать.",
    ),
    "IDEMPOTENCY_KEY_MISMATCH": (
        "retryable",
        "Another request was already handling this send; it was not repeated.",
        "Эту отправку уже выполнял другой запрос; повторять её не стали.",
    ),
    "UNAUTHORIZED": (
        "retryable",
        "The service that connects to Telegram refused our credentials; an administrator must fix it.",
        "Сервис подключения к Telegram не принял наши учётные данные; нужна помощь администратора.",
    ),
    "FORBIDDEN": (
        "retryable",
        "The service that connects to Telegram refused this request; an administrator must check it.",
        "Сервис подключения к Telegram отклонил запрос; нужна помощь администратора.",
    ),
    "VALIDATION_ERROR": (
        "retryable",
        "The service that connects to Telegram refused the request as malformed; nothing was sent.",
        "Сервис подключения к Telegram отклонил запрос как некорректный; ничего не отправлено.",
    ),
    "ACCOUNT_NOT_FOUND": (
        "retryable",
        "This account is not known to the service that connects to Telegram; another account can try.",
        "Сервис подключения к Telegram не знает этот аккаунт; попробовать может другой аккаунт.",
    ),
    "UNAVAILABLE": (
        "retryable",
        "The service that connects to Telegram is unavailable right now.",
        "Сервис подключения к Telegram сейчас недоступен.",
    ),
    "RPC_ERROR": (
        "retryable",
        "Telegram returned an error without a name.",
        "Telegram вернул ошибку без названия.",
    ),
    # -- this service's own reasons ---------------------------------------------------------------
    "NOT_SENT": (
        "retryable",
        "Nothing was sent: the connection to Telegram failed before the send; it will be tried again.",
        "Ничего не отправлено: связь с Telegram прервалась до отправки; попробуем ещё раз.",
    ),
    "ADAPTER_ERROR": (
        "retryable",
        "Something went wrong on our side during the send; it may or may not have gone through.",
        "Во время отправки у нас произошёл сбой; отправка могла пройти, а могла и нет.",
    ),
    "DATABASE_ERROR": (
        "retryable",
        "Our database failed for a moment; the people waiting in this batch went back to the queue.",
        "Наша база данных ненадолго дала сбой; люди из этой партии вернулись в очередь.",
    ),
    "DELIVERY_UNKNOWN": (
        "retryable",
        "We could not find out whether this send went through; sending again may repeat it.",
        "Не удалось узнать, прошла ли отправка; повторная отправка может её продублировать.",
    ),
    "DELIVERY_UNCONFIRMED": (
        "retryable",
        "Telegram did not confirm this send; sending again may repeat it.",
        "Telegram не подтвердил отправку; повторная отправка может её продублировать.",
    ),
    "HANDED_TO_PREMIUM": (
        "benign",
        "Waiting for a Telegram Premium account of this task, which this person accepts invites from.",
        "Ждёт аккаунт этой задачи с Telegram Premium — от такого аккаунта человек примет приглашение.",
    ),
    "suppressed": (
        "benign",
        "Skipped: this person is on your do-not-contact list.",
        "Пропущен: этот человек в вашем списке «не беспокоить».",
    ),
    "CONTACTED_RECENTLY": (
        "benign",
        "Skipped: this person was contacted recently (your contact policy spaces contacts with one person).",
        "Пропущен: с этим человеком недавно уже связывались (ваша политика контактов ограничивает частоту).",
    ),
    "NO_CONSENT": (
        "benign",
        "Skipped: your contact policy requires consent and none is recorded for this person.",
        "Пропущен: ваша политика контактов требует согласия, а у этого человека оно не записано.",
    ),
    "skipped_by_user": (
        "benign",
        "Skipped by you.",
        "Пропущен вами.",
    ),
    "cancelled": (
        "benign",
        "Not contacted: the task was cancelled.",
        "Не обработан: задачу отменили.",
    ),
    "limiter_unavailable": (
        "retryable",
        "Our limit counter was unavailable, so nothing was sent for a moment to stay within the limits.",
        "Счётчик лимитов был недоступен, поэтому ненадолго ничего не отправляли, чтобы не превысить лимиты.",
    ),
}


def catalogue() -> ReasonCatalogue:
    return ReasonCatalogue(
        reasons=[ReasonOut(code=code, kind=kind, en=en, ru=ru) for code, (kind, en, ru) in REASONS.items()]
    )


def sentence(code: str | None, lang: str = "en") -> str:
    """The sentence for ``code`` in ``lang`` ("en" or "ru"); an unknown code is shown as itself."""
    if not code:
        return ""
    entry = REASONS.get(code) or REASONS.get(_family(code))
    if entry is None:
        return code
    return entry[2] if lang == "ru" else entry[1]


def _family(code: str) -> str:
    """The entry that speaks for a code of a numbered family (``HTTP_599``: a server error)."""
    if code.startswith("HTTP_"):
        status = code.removeprefix("HTTP_")
        if status.startswith("-") or status.startswith("5"):
            return "HTTP_500"
    return code
