"""``manage.py keys_rotate`` (``unionaid keys rotate``): re-encrypt personal data with the
active key, online.

Rotation: add the new key to UNIONAID_KEYS, make it UNIONAID_ACTIVE_KEY, restart the app (new
values use the new key, old values still decrypt), then run this command. It walks every model
with an EncryptedTextField in primary-key batches; each batch locks its rows
(select_for_update), reads the stored tokens with raw SQL (an ORM filter on an encrypted
field would encrypt the operand) and rewrites only the tokens whose key or suite isn't the
active one. Once it reports nothing left (``--check``), the old key can be removed.

Switching suite (aes -> sm) works the same way: set UNIONAID_CRYPTO_SUITE=sm with a new 16-byte
SM4 key active and keep the old AES key in UNIONAID_KEYS. The keyed lookup hashes depend on
the suite (HMAC-SHA256 vs HMAC-SM3), so rows re-encrypted across suites also get their hash
columns recomputed (each field names its own: ``EncryptedTextField(blind_index=...)``); until
the run finishes, exact look-ups may miss rows not yet rotated, so run it right after the
switch. ``--reindex`` recomputes every hash (after changing UNIONAID_INDEX_KEY).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from unionaid.core import crypto
from unionaid.core.fields import EncryptedTextField


def blind_index_pairs() -> dict[tuple[str, str], tuple[str, str]]:
    """(model label, encrypted field) -> (hash field, blind-index purpose), as declared by
    every installed model's ``EncryptedTextField(blind_index=...)``."""
    return {
        (model._meta.label_lower, f.name): f.blind_index
        for model, fields in encrypted_models()
        for f in fields
        if f.blind_index
    }


@dataclass
class Stats:
    rows: int = 0
    rotated: int = 0
    reindexed: int = 0
    stale: int = 0
    failed: list[str] = field(default_factory=list)


def encrypted_models():
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [f for f in meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


class Command(BaseCommand):
    help = "Re-encrypt personal data whose key or suite is not the active one (online)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--check", action="store_true",
                            help="only count values not under the active key; exit 1 if any")
        parser.add_argument("--reindex", action="store_true",
                            help="recompute every keyed lookup hash (after an index-key change)")

    def handle(self, *args, batch_size: int, check: bool, reindex: bool, **options):
        crypto.reset_keyring()
        keyring = crypto.get_keyring()
        self.stdout.write(f"active key {keyring.active_kid!r}, suite {keyring.suite}")
        pairs = blind_index_pairs()
        total = Stats()
        for model, fields in encrypted_models():
            stats = self._rotate_model(model, fields, keyring, pairs, batch_size=batch_size,
                                       check=check, reindex=reindex)
            total.rows += stats.rows
            total.rotated += stats.rotated
            total.reindexed += stats.reindexed
            total.stale += stats.stale
            total.failed += stats.failed
        for failure in total.failed:
            self.stderr.write(f"cannot decrypt {failure}")
        if check:
            self.stdout.write(f"{total.stale} value(s) not under the active key")
            if total.stale or total.failed:
                raise CommandError("rotation incomplete")
            return
        self.stdout.write(self.style.SUCCESS(
            f"done: {total.rows} rows checked, {total.rotated} values re-encrypted, "
            f"{total.reindexed} lookup hashes recomputed"
        ))
        if total.failed:
            raise CommandError(f"{len(total.failed)} value(s) could not be decrypted")

    def _rotate_model(self, model, fields, keyring, pairs, *, batch_size, check, reindex):
        meta = model._meta
        qn = connection.ops.quote_name
        label = meta.label_lower
        pk_col = meta.pk.column
        hashes = {f.column: pairs.get((label, f.name)) for f in fields}
        hash_cols = {col: (meta.get_field(pair[0]).column, pair[1])
                     for col, pair in hashes.items() if pair}
        columns = [f.column for f in fields]
        # Identifiers come from model metadata, values are parameters.
        select = (
            f"SELECT {qn(pk_col)}, {', '.join(qn(c) for c in columns)} "  # noqa: S608
            f"FROM {qn(meta.db_table)} WHERE {qn(pk_col)} IN ({{}})"
        )
        total_rows = model._base_manager.count()
        stats = Stats()
        last_pk = None
        active_tag = keyring.token_prefix.split(":", 1)[0]
        while True:
            with transaction.atomic():
                qs = model._base_manager.order_by("pk")
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                if not check:
                    qs = qs.select_for_update()
                ids = list(qs.values_list("pk", flat=True)[:batch_size])
                if not ids:
                    break
                with connection.cursor() as cursor:
                    cursor.execute(select.format(", ".join(["%s"] * len(ids))), ids)
                    rows = cursor.fetchall()
                updates = []
                for pk, *tokens in rows:
                    changes = {}
                    for column, token in zip(columns, tokens, strict=True):
                        if not token:
                            continue
                        stale = keyring.needs_rotation(token)
                        cross_suite = not token.startswith(active_tag + ":")
                        if not (stale or (reindex and column in hash_cols)):
                            continue
                        stats.stale += int(stale)
                        if check:
                            continue
                        try:
                            clear = keyring.decrypt(token)
                        except crypto.DecryptionError:
                            stats.failed.append(f"{label} pk={pk} {column}")
                            continue
                        if stale:
                            changes[column] = keyring.encrypt(clear)
                            stats.rotated += 1
                        if column in hash_cols and (reindex or cross_suite):
                            hash_col, purpose = hash_cols[column]
                            changes[hash_col] = keyring.blind_index(clear, purpose=purpose)
                            stats.reindexed += 1
                    if changes:
                        updates.append((pk, changes))
                self._write(meta, updates)
                stats.rows += len(ids)
                last_pk = ids[-1]
            self.stdout.write(f"{label}: {stats.rows}/{total_rows} rows checked, "
                              f"{stats.rotated} re-encrypted")
        return stats

    def _write(self, meta, updates) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for pk, changes in updates:
                columns = sorted(changes)
                assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
                cursor.execute(
                    f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s",  # noqa: S608
                    [changes[c] for c in columns] + [pk],
                )
