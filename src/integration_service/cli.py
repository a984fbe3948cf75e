"""``integration-service serve | migrate | login | accounts | logout | keygen``.

``login`` signs in an **existing** Telegram account (phone + code, + 2FA password; or a QR code shown
in the terminal) and stores its session encrypted; it never registers an account: a phone Telegram
does not know is refused. ``logout`` revokes the session on Telegram, then deletes it here.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from typing import Any

from integration_service.accounts import AccountNotFound, AccountStore
from integration_service.config import ConfigError, Settings, load_settings
from integration_service.crypto import SessionCipher, SessionKeyError
from integration_service.db import engine_for, upgrade
from integration_service.telegram import ClientFactory, telethon_factory


def _now() -> Any:
    from integration_service.app import utcnow

    return utcnow()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="integration-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the contract's HTTP API")
    serve.add_argument("--migrate", action="store_true", help="migrate the database first")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("migrate", help="create or upgrade the database")
    sub.add_parser("keygen", help="print a new session key (INTEGRATION_SESSION_KEY)")
    login = sub.add_parser("login", help="log in an existing Telegram account and store its session")
    login.add_argument("--user-id", required=True, help="the owner: the Invite Service user id")
    login.add_argument("--label", required=True)
    login.add_argument("--qr", action="store_true", help="log in by scanning a QR code in the Telegram app")
    login.add_argument("--phone", help="the account's phone number (asked for when not given)")
    listing = sub.add_parser("accounts", help="list stored accounts")
    listing.add_argument("--user-id")
    revoke = sub.add_parser("logout", help="revoke an account's session and delete it")
    revoke.add_argument("account_id")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            print(SessionCipher.generate_key())
            return 0
        settings = load_settings()
        if args.command == "migrate":
            upgrade(settings.database_url)
        elif args.command == "serve":
            _serve(settings, args)
        elif args.command == "login":
            settings.check_serving()
            settings.check_telegram()
            asyncio.run(_login(settings, args.user_id, args.label, qr=args.qr, phone=args.phone))
        elif args.command == "accounts":
            asyncio.run(list_accounts(settings, args.user_id))
        elif args.command == "logout":
            settings.check_serving()
            factory = telethon_factory(settings.telegram_api_id, settings.telegram_api_hash)
            asyncio.run(logout(settings, args.account_id, factory))
    except (ConfigError, SessionKeyError, LoginRefused) as exc:
        print(f"integration-service: {exc}", file=sys.stderr)
        return 2
    except AccountNotFound as exc:
        print(f"integration-service: no account {exc}", file=sys.stderr)
        return 2
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from integration_service.app import create_app
    from invite_service.observability.logging import configure_logging

    settings.check_serving()
    if not settings.telegram_api_id or not settings.telegram_api_hash:
        raise ConfigError("INTEGRATION_TELEGRAM_API_ID and INTEGRATION_TELEGRAM_API_HASH must be set")
    configure_logging(settings.log_level, settings.log_json)
    logging.getLogger("telethon").setLevel("WARNING")  # its INFO lines name data centres and peers
    if args.migrate:
        upgrade(settings.database_url)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,  # paths carry phone numbers
    )


class LoginRefused(Exception):
    pass


async def _login(settings: Settings, user_id: str, label: str, *, qr: bool, phone: str | None) -> None:
    from telethon import TelegramClient, errors
    from telethon.sessions import StringSession

    client = TelegramClient(
        StringSession(), settings.telegram_api_id, settings.telegram_api_hash, flood_sleep_threshold=0
    )
    await client.connect()
    try:
        if qr:
            await _qr_login(client)
        else:
            phone = phone or (await asyncio.to_thread(input, "phone (international format, +…): ")).strip()
            sent = await client.send_code_request(phone)
            code = (await asyncio.to_thread(input, "the code Telegram sent: ")).strip()
            try:
                await client.sign_in(phone=phone, code=code, phone_code_hash=sent.phone_code_hash)
            except errors.SessionPasswordNeededError:
                await client.sign_in(password=await asyncio.to_thread(getpass.getpass, "2FA password: "))
            except errors.PhoneNumberUnoccupiedError as exc:
                raise LoginRefused(
                    "Telegram has no account for this phone; this service never registers accounts"
                ) from exc
        me: Any = await client.get_me()
        session = StringSession.save(client.session)
        engine = engine_for(settings.database_url)
        try:
            account_id = await AccountStore(engine, _now).create(
                user_id=user_id,
                label=label,
                session_ciphertext=SessionCipher(settings.session_key).encrypt(session),
                telegram_user_id=me.id,
                username=me.username,
                is_premium=bool(me.premium),
                phone=me.phone,
            )
        finally:
            await engine.dispose()
        print(f"logged in: account {account_id} (owner {user_id}, @{me.username or '-'})")
    finally:
        await client.disconnect()


async def _qr_login(client: Any) -> None:
    import qrcode
    from telethon import errors

    login = await client.qr_login()
    while True:
        code = qrcode.QRCode(border=1)
        code.add_data(login.url)
        code.print_ascii(invert=True)
        print("Telegram app → Settings → Devices → Link Desktop Device, and scan this code.")
        try:
            await login.wait(timeout=120)
            return
        except TimeoutError:
            await login.recreate()
        except errors.SessionPasswordNeededError:
            await client.sign_in(password=await asyncio.to_thread(getpass.getpass, "2FA password: "))
            return


async def list_accounts(settings: Settings, user_id: str | None) -> list[dict[str, Any]]:
    engine = engine_for(settings.database_url)
    try:
        store = AccountStore(engine, _now)
        rows = [store.wire(row) for row in await store.list(user_id)]
    finally:
        await engine.dispose()
    for row in rows:
        print(
            f"{row['id']}\towner={row['user_id']}\t{row['label']}\t@{row['username'] or '-'}\t{row['status']}"
        )
    return rows


async def logout(settings: Settings, account_id: str, factory: ClientFactory) -> None:
    """Revoke the session on Telegram (``auth.logOut``), then delete it and mark the account."""
    engine = engine_for(settings.database_url)
    try:
        store = AccountStore(engine, _now)
        row = await store.get(account_id)
        if row.session_ciphertext is not None:
            client = factory(row, SessionCipher(settings.session_key).decrypt(row.session_ciphertext))
            await client.connect()
            try:
                await client.log_out()
            finally:
                if client.is_connected():
                    await client.disconnect()
        await store.set(
            account_id, session_ciphertext=None, status="unavailable", status_detail="SESSION_REVOKED"
        )
    finally:
        await engine.dispose()
    print(f"logged out: account {account_id} (session revoked and deleted)")


if __name__ == "__main__":
    raise SystemExit(main())
