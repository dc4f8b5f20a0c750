"""Field-level encryption of personal data in MongoDB, with one data key per user.

MongoDB's explicit client-side field-level encryption (PyMongo's `AsyncClientEncryption`,
backed by libmongocrypt from `pymongocrypt`): a value is encrypted in this process with
AEAD_AES_256_CBC_HMAC_SHA_512-Random and stored as BSON binary subtype 6, which FerretDB stores
like any binary, so the same code runs on a real MongoDB. The key hierarchy is MongoDB's:

- the **master key** (FIELD_ENCRYPTION_MASTER_KEY, 96 random bytes in base64; generated into
  DATA_DIR outside production, required in production) wraps the data keys. It is a "local"
  KMS provider named after its fingerprint (`local:<8 hex>`), so a key vault wrapped by another
  master key is recognised as such, and `oneenglish keys rotate` can hold both while it
  re-wraps every data key under the new one;
- one **data key per user** (key alt name `user:<id>`), in the key vault collection
  (FIELD_ENCRYPTION_KEY_VAULT, by default a database of its own beside the application's, so
  that it can be backed up on its own schedule), made on the user's first encrypted write.

Erasure deletes the user's data key before their documents (crypto-shredding): a copy of the
documents taken before, on a replica or in a backup, is noise for that user once no copy of
the key vault holds the key. Processes keep a data key in memory for at most
FIELD_ENCRYPTION_KEY_CACHE_SECONDS. The cipher is bound to the MongoDB database handle the code
already passes around (`for_database`), so repositories reach it without another parameter.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bson.binary import STANDARD, Binary
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient
from pymongo.asynchronous.encryption import AsyncClientEncryption
from pymongo.encryption_shared import Algorithm
from pymongo.errors import DuplicateKeyError, EncryptionError

from oneenglish.db.mongo import Database, MongoDocument

ALGORITHM = Algorithm.AEAD_AES_256_CBC_HMAC_SHA_512_Random
ENCRYPTED_SUBTYPE = 6
MASTER_KEY_BYTES = 96


class KeyUnavailable(Exception):
    """The value's data key is gone (its user was erased) or not readable with this master key."""


class MasterKeyMismatch(Exception):
    """The key vault holds data keys wrapped by a master key this process does not have."""


def provider_name(master_key: bytes) -> str:
    return "local:" + hashlib.sha256(master_key).hexdigest()[:8]


def decode_master_key(text: str) -> bytes:
    key = base64.b64decode(text, validate=True)
    if len(key) != MASTER_KEY_BYTES:
        raise ValueError(f"a field-encryption master key is {MASTER_KEY_BYTES} bytes in base64")
    return key


def key_alt_name(user_id: str) -> str:
    return f"user:{user_id}"


def is_encrypted(value: object) -> bool:
    return isinstance(value, Binary) and value.subtype == ENCRYPTED_SUBTYPE


@dataclass
class FieldCipher:
    encryption: AsyncClientEncryption[MongoDocument]
    vault: Any  # the key vault collection
    provider: str
    verified: bool = False

    async def encrypt(self, user_id: str, value: Any) -> Binary:
        return (await self.encrypt_fields(user_id, {"value": value}))["value"]

    async def encrypt_fields(self, user_id: str, values: dict[str, Any]) -> dict[str, Binary]:
        """Each value encrypted with the user's data key (made on first use): one look-up of
        the key for all of them, the encryptions together."""
        name = key_alt_name(user_id)
        await self._ensure_key(name)
        encrypted = await asyncio.gather(
            *(self.encryption.encrypt(v, ALGORITHM, key_alt_name=name) for v in values.values())
        )
        return dict(zip(values, encrypted, strict=True))

    async def decrypt(self, value: Any) -> Any:
        """A stored value in clear; values written before encryption was on pass through."""
        if not is_encrypted(value):
            return value
        try:
            return await self.encryption.decrypt(value)
        except EncryptionError as exc:
            raise KeyUnavailable(str(exc)) from exc

    async def decrypt_fields(self, document: MongoDocument) -> MongoDocument:
        """The document with every encrypted top-level field in clear."""
        names = [k for k, v in document.items() if is_encrypted(v)]
        clear = await asyncio.gather(*(self.decrypt(document[k]) for k in names))
        return {**document, **dict(zip(names, clear, strict=True))}

    async def destroy_key(self, user_id: str) -> bool:
        """Crypto-shredding: delete the user's data key. Idempotent."""
        result = await self.vault.delete_many({"keyAltNames": key_alt_name(user_id)})
        return bool(result.deleted_count)

    async def has_key(self, user_id: str) -> bool:
        found: int = await self.vault.count_documents({"keyAltNames": key_alt_name(user_id)})
        return found > 0

    async def user_ids_with_keys(self) -> list[str]:
        """Whose data keys the vault holds (reconcile looks for keys of users who are gone)."""
        names = await self.vault.distinct("keyAltNames")
        return [
            n.removeprefix("user:") for n in names if isinstance(n, str) and n.startswith("user:")
        ]

    async def ensure_index(self) -> None:
        """One data key per alt name, enforced by the server (two first writes may race)."""
        await self.vault.create_index([("keyAltNames", 1)], unique=True, name="uq_keyAltNames")

    async def verify(self) -> None:
        """Every data key must be wrapped by this master key: otherwise every read of those
        users' fields would fail, one request at a time."""
        stranger = await self.vault.find_one(
            {"masterKey.provider": {"$ne": self.provider}}, {"masterKey.provider": 1}
        )
        if stranger is None:
            self.verified = True
            return
        raise MasterKeyMismatch(
            "FIELD_ENCRYPTION_MASTER_KEY is not the key the key vault's data keys are "
            f"wrapped with ({stranger['masterKey']['provider']}, this key is "
            f"{self.provider}); set the right key, or re-wrap with `oneenglish keys rotate`"
        )

    async def ensure_verified(self) -> None:
        """For the readiness probe: verified once, then nothing to do."""
        if not self.verified:
            await self.verify()

    async def _ensure_key(self, name: str) -> None:
        if await self.vault.count_documents({"keyAltNames": name}, limit=1):
            return
        try:
            await self.encryption.create_data_key(self.provider, key_alt_names=[name])
        except (DuplicateKeyError, EncryptionError) as exc:
            # Another request made it first: use theirs (the unique index decided).
            if not await self.vault.count_documents({"keyAltNames": name}, limit=1):
                raise KeyUnavailable(f"no data key could be made for {name}") from exc

    async def close(self) -> None:
        await self.encryption.close()


def open_cipher(
    client: AsyncMongoClient[MongoDocument],
    namespace: str,
    master_key: bytes,
    *,
    cache_seconds: float,
    old_master_key: bytes | None = None,
) -> FieldCipher:
    providers = {provider_name(master_key): {"key": master_key}}
    if old_master_key is not None:
        providers[provider_name(old_master_key)] = {"key": old_master_key}
    database, collection = namespace.split(".", 1)
    encryption: AsyncClientEncryption[MongoDocument] = AsyncClientEncryption(
        providers,
        namespace,
        client,
        CodecOptions(uuid_representation=STANDARD, tz_aware=True),
        # 0 would mean "forever" to libmongocrypt: at least a millisecond.
        key_expiration_ms=max(1, int(cache_seconds * 1000)),
    )
    return FieldCipher(encryption, client[database][collection], provider_name(master_key))


async def rewrap_all(
    cipher: FieldCipher, old_provider: str, batch_size: int, progress: Callable[[int], None]
) -> int:
    """Re-wrap every data key wrapped by `old_provider` under the cipher's master key, in
    batches (the documents encrypted with them are untouched); returns how many."""
    done = 0
    while True:
        # libmongocrypt encodes the filter itself, and only takes UUIDs as BSON binaries.
        batch = [
            Binary.from_uuid(doc["_id"]) if isinstance(doc["_id"], uuid.UUID) else doc["_id"]
            async for doc in cipher.vault.find(
                {"masterKey.provider": old_provider}, {"_id": 1}, limit=batch_size
            )
        ]
        if not batch:
            return done
        await cipher.encryption.rewrap_many_data_key(
            {"_id": {"$in": batch}}, provider=cipher.provider
        )
        done += len(batch)
        progress(len(batch))


async def count_wrapped_by(cipher: FieldCipher, provider: str) -> int:
    return int(await cipher.vault.count_documents({"masterKey.provider": provider}))


# -- the cipher of each database handle ------------------------------------------------------

# On the handle itself, by identity: two handles of equal clients (same URL and name) compare
# equal in PyMongo, and must not share a cipher (each closes with its own client).
_ATTRIBUTE = "_oneenglish_field_cipher"


def bind(mongo: Database, cipher: FieldCipher) -> None:
    setattr(mongo, _ATTRIBUTE, cipher)


def for_database(mongo: Database) -> FieldCipher:
    cipher = mongo.__dict__.get(_ATTRIBUTE)
    if not isinstance(cipher, FieldCipher):
        raise RuntimeError("no field cipher is bound to this MongoDB database")
    return cipher
