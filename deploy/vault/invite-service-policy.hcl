# Vault policy of the Invite Service: read its one KV v2 secret, renew its own token. Nothing else.
# Paths match the defaults INVITE_VAULT_KV_MOUNT=secret and INVITE_VAULT_KV_PATH=invite-service;
# change both together. Applied by deploy/vault/setup.sh.

path "secret/data/invite-service" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
