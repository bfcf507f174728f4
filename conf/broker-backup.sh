#!/bin/sh
# Broker: ask the running server for an online backup (POST /backup), then keep only the newest KEEP backups.
# Run by broker-backup.service (daily through broker-backup.timer); also fine by hand or from cron.
#
# Environment:
#   BROKER_ADMIN_TOKEN  the server's admin token (required; broker-backup.service reads /etc/broker/broker.env)
#   BACKUP_URL          the endpoint (default http://127.0.0.1:8080/backup)
#   BACKUP_DIR          the server's --backup_dir, where old backups are pruned (default /var/lib/broker/backups)
#   KEEP                how many backups to keep, at least 1 (default 7)
set -eu

: "${BROKER_ADMIN_TOKEN:?BROKER_ADMIN_TOKEN is not set}"
url=${BACKUP_URL:-http://127.0.0.1:8080/backup}
dir=${BACKUP_DIR:-/var/lib/broker/backups}
keep=${KEEP:-7}
case $keep in
  '' | *[!0-9]* | 0) echo "broker-backup: KEEP must be a whole number of at least 1, not '$keep'" >&2; exit 2 ;;
esac

# The token travels on stdin, never on a command line (ps shows those); quotes and backslashes are escaped for JSON.
token=$(printf '%s' "$BROKER_ADMIN_TOKEN" | sed 's/[\\"]/\\&/g')
printf '{"admin_token":"%s"}' "$token" \
  | curl --silent --show-error --fail-with-body --max-time 86400 \
      -H 'Content-Type: application/json' --data-binary @- "$url"
echo

# Backups are directories broker-<UTC time>, which sort by time; one being written has a hidden name and is left
# alone. Only a backup the server answered for counts, so a failed one above never costs an old one.
ls -1d "$dir"/broker-* 2>/dev/null | sort -r | tail -n +"$((keep + 1))" | while IFS= read -r old; do
  rm -rf -- "$old"
  echo "broker-backup: removed $old"
done
