#!/bin/sh
# One-time Vault setup for the Invite Service (run by an operator with a privileged token):
# the policy, an AppRole bound to it, and the KV v2 secret the service reads at start-up.
#   VAULT_ADDR=https://vault.internal:8200 VAULT_TOKEN=… sh deploy/vault/setup.sh
# Then give the service INVITE_VAULT_ADDR and the role id and secret id it prints (as files, ideally:
# INVITE_VAULT_ROLE_ID_FILE / INVITE_VAULT_SECRET_ID_FILE).
set -eu
here=$(dirname "$0")

vault policy write invite-service "$here/invite-service-policy.hcl"
vault auth list -format=json | grep -q '"approle/"' || vault auth enable approle
# Short-lived, renewable tokens: the service renews at two thirds of the lease and logs in again on restart.
vault write auth/approle/role/invite-service \
    token_policies=invite-service token_ttl=1h token_max_ttl=24h secret_id_ttl=0

vault secrets list -format=json | grep -q '"secret/"' || vault secrets enable -path=secret kv-v2
# Fields the service reads (README: INVITE_VAULT_*): jwt_secret or jwt_public_key, integration_token_secret,
# optionally parsing_token_secret and database_url.
vault kv put secret/invite-service \
    jwt_secret="$(head -c 48 /dev/urandom | base64)" \
    integration_token_secret="${INTEGRATION_TOKEN_SECRET:?set INTEGRATION_TOKEN_SECRET to the Integration Service secret}"

echo "role_id:   $(vault read -field=role_id auth/approle/role/invite-service/role-id)"
echo "secret_id: $(vault write -f -field=secret_id auth/approle/role/invite-service/secret-id)"
