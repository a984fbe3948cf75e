#!/bin/sh
# One-time Vault setup for the Invite Service (run by an operator with a privileged token, or by the compose
# stack's one-shot `vault-setup` against its dev-mode Vault): the policy, an AppRole bound to it, and the
# KV v2 secret the service reads at start-up.
#   VAULT_ADDR=https://vault.internal:8200 VAULT_TOKEN=… INTEGRATION_TOKEN_SECRET=… sh deploy/vault/setup.sh
# It speaks Vault's HTTP API with curl (no vault binary needed: the compose one-shot is a small curl image).
# Then the service needs INVITE_VAULT_ADDR and the role id and a secret id, as files ideally
# (INVITE_VAULT_ROLE_ID_FILE / INVITE_VAULT_SECRET_ID_FILE):
#   - with VAULT_CREDENTIALS_DIR set, they are written there as role_id and secret_id (mode 0400, owned by
#     VAULT_CREDENTIALS_OWNER when set) and not printed: the compose stack shares that folder with the service;
#   - without it, they are printed for the operator to deliver (runbook: Vault in production).
# Tested against a local Vault stand-in by tests/deploy/test_vault_setup.py.
set -eu
here=$(dirname "$0")
: "${VAULT_ADDR:?set VAULT_ADDR}" "${VAULT_TOKEN:?set VAULT_TOKEN}"
: "${INTEGRATION_TOKEN_SECRET:?set INTEGRATION_TOKEN_SECRET to the Integration Service secret}"

# curl against the API; fails, with Vault's error body on stderr, on any non-2xx answer.
api() {
    method=$1 path=$2
    shift 2
    if ! answer=$(curl -sS --fail-with-body -X "$method" -H "X-Vault-Token: $VAULT_TOKEN" \
        -H "Content-Type: application/json" "$@" "$VAULT_ADDR/v1/$path"); then
        echo "setup.sh: $method $path: ${answer:-no answer}" >&2
        return 1
    fi
    printf '%s\n' "$answer"
}
# A JSON string literal of stdin (the policy file, a secret): backslashes, quotes, newlines escaped.
json_string() {
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' | awk 'BEGIN { printf "\"" } { printf "%s\\n", $0 } END { printf "\"" }'
}
# One string field of a JSON answer (Vault's answers are flat enough here for sed).
field() {
    sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"
}

api POST sys/policies/acl/invite-service --data "{\"policy\": $(json_string <"$here/invite-service-policy.hcl")}" >/dev/null
api GET sys/auth | grep -q '"approle/"' || api POST sys/auth/approle --data '{"type": "approle"}' >/dev/null
# Short-lived, renewable tokens: the service renews at two thirds of the lease and logs in again on restart.
api POST auth/approle/role/invite-service --data \
    '{"token_policies": ["invite-service"], "token_ttl": "1h", "token_max_ttl": "24h", "secret_id_ttl": "0"}' >/dev/null

api GET sys/mounts | grep -q '"secret/"' ||
    api POST sys/mounts/secret --data '{"type": "kv", "options": {"version": "2"}}' >/dev/null
# Fields the service reads (README: INVITE_VAULT_*): jwt_secret or jwt_public_key, integration_token_secret,
# optionally parsing_token_secret and database_url. Running the script again replaces them (new jwt_secret:
# users sign in again).
jwt_secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
integration=$(printf '%s' "$INTEGRATION_TOKEN_SECRET" | json_string | sed 's/\\n"$/"/')
api POST secret/data/invite-service --data \
    "{\"data\": {\"jwt_secret\": \"$jwt_secret\", \"integration_token_secret\": $integration}}" >/dev/null

role_id=$(api GET auth/approle/role/invite-service/role-id | field role_id)
secret_id=$(api POST auth/approle/role/invite-service/secret-id | field secret_id)
[ -n "$role_id" ] && [ -n "$secret_id" ] || { echo "setup.sh: Vault returned no role_id/secret_id" >&2; exit 1; }

if [ -n "${VAULT_CREDENTIALS_DIR:-}" ]; then
    mkdir -p "$VAULT_CREDENTIALS_DIR"
    (umask 077 && printf '%s\n' "$role_id" >"$VAULT_CREDENTIALS_DIR/role_id.new" &&
        printf '%s\n' "$secret_id" >"$VAULT_CREDENTIALS_DIR/secret_id.new")
    if [ -n "${VAULT_CREDENTIALS_OWNER:-}" ]; then
        chown "$VAULT_CREDENTIALS_OWNER" "$VAULT_CREDENTIALS_DIR/role_id.new" "$VAULT_CREDENTIALS_DIR/secret_id.new"
    fi
    chmod 0400 "$VAULT_CREDENTIALS_DIR/role_id.new" "$VAULT_CREDENTIALS_DIR/secret_id.new"
    # Renamed into place, so a reader never sees a half-written file.
    mv -f "$VAULT_CREDENTIALS_DIR/role_id.new" "$VAULT_CREDENTIALS_DIR/role_id"
    mv -f "$VAULT_CREDENTIALS_DIR/secret_id.new" "$VAULT_CREDENTIALS_DIR/secret_id"
    echo "setup.sh: role_id and secret_id written to $VAULT_CREDENTIALS_DIR"
else
    echo "role_id:   $role_id"
    echo "secret_id: $secret_id"
fi
