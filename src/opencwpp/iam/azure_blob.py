"""Who can reach the blob data of each Azure storage account, from the lake.

Three ways in, each judged the way Azure decides it:

- a data role: an assignment at the account's scope or above (root, management group,
  subscription, resource group), or on one container, whose role grants the data action (Storage
  Blob Data Reader / Contributor / Owner, custom roles; `notDataActions` subtract);
- the account keys: an assignment whose role grants `listkeys/action` (Owner, Contributor,
  Storage Account Contributor …) reads everything with the key, unless shared-key
  authorization is disabled on the account (`allowSharedKeyAccess: false`);
- anonymous: a container with public access (Blob or Container) in an account that does not
  forbid it (`allowBlobPublicAccess` not false), for reads.

ARM role assignments say whether a principal is a User, Group, ServicePrincipal or ForeignGroup
(a group of another tenant) but not whether a user is a guest: that needs Microsoft Graph, which
is not collected. ForeignGroup principals are reported as external.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opencwpp.iam.azure_rbac import Rbac, holders, load_rbac
from opencwpp.lake import Lake

BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
LIST_KEYS = "Microsoft.Storage/storageAccounts/listkeys/action"
BLOB_DATA_PREFIX = "microsoft.storage/storageaccounts/blobservices/containers/blobs/"
ANONYMOUS = "anonymous"
EXTERNAL_TYPES = frozenset({"foreigngroup"})
_CONTAINERS = "/blobservices/default/containers/"


@dataclass(frozen=True, slots=True)
class StorageAccount:
    """What the access judgement needs from one storage account."""

    id: str
    name: str
    subscription_id: str
    location: str
    shared_key: bool
    blob_public_access: bool
    public_containers: tuple[tuple[str, str], ...] = ()  # (container name, access level)


@dataclass(frozen=True, slots=True)
class Grant:
    """One way one principal (or anyone) can do the action on the account's blobs."""

    principal_id: str
    principal_type: str
    via: str  # data-role | account-keys | anonymous | role
    role: str
    scope: str
    container: str | None = None  # None: every container of the account
    assignment_id: str = ""
    condition: str | None = None

    def to_row(self) -> dict[str, str | None]:
        """A JSON-ready dict."""
        return {
            "principal_id": self.principal_id,
            "principal_type": self.principal_type,
            "via": self.via,
            "role": self.role,
            "scope": self.scope,
            "container": self.container,
            "assignment_id": self.assignment_id,
            "condition": self.condition,
        }


def is_blob_data_action(action: str) -> bool:
    """Whether the action is a Blob data-plane action (granted by dataActions and by the keys)."""
    return action.lower().startswith(BLOB_DATA_PREFIX)


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() != "false"


def load_accounts(lake: Lake) -> dict[str, StorageAccount]:
    """The collected storage accounts by lower-cased id, with their public containers."""
    if not lake.table_exists("azure_storage_accounts"):
        return {}
    public: dict[str, list[tuple[str, str]]] = {}
    if lake.table_exists("azure_storage_containers"):
        for row in lake.query(
            "SELECT id, name, properties->>'$.publicAccess' AS access FROM azure_storage_containers"
        ):
            access = str(row["access"] or "None")
            cid = str(row["id"]).lower()
            if access.lower() in ("blob", "container") and _CONTAINERS in cid:
                account = cid.split(_CONTAINERS, 1)[0]
                public.setdefault(account, []).append((str(row["name"]), access))
    out: dict[str, StorageAccount] = {}
    for row in lake.query(
        "SELECT id, name, subscription_id, location, "
        "properties->>'$.allowSharedKeyAccess' AS shared_key, "
        "properties->>'$.allowBlobPublicAccess' AS blob_public "
        "FROM azure_storage_accounts"
    ):
        key = str(row["id"]).lower()
        out[key] = StorageAccount(
            id=str(row["id"]),
            name=str(row["name"] or ""),
            subscription_id=str(row["subscription_id"] or ""),
            location=str(row["location"] or ""),
            # Not set means allowed: both are the service defaults of older accounts.
            shared_key=_flag(row["shared_key"], True),
            blob_public_access=_flag(row["blob_public"], True),
            public_containers=tuple(sorted(public.get(key, []))),
        )
    return out


def _container_grants(rbac: Rbac, account: StorageAccount, action: str) -> Iterable[Grant]:
    """Data-role grants on single containers of the account."""
    prefix = account.id.lower() + _CONTAINERS
    for assignment in rbac.assignments:
        scope = assignment.scope.lower().rstrip("/")
        if not scope.startswith(prefix):
            continue
        role = rbac.role_of(assignment)
        if role is None or not role.grants(action, True):
            continue
        yield Grant(
            assignment.principal_id,
            assignment.principal_type,
            "data-role",
            role.name,
            assignment.scope,
            assignment.scope.rstrip("/")[len(prefix) :].split("/", 1)[0],
            assignment.id,
            assignment.condition,
        )


def grants_on_account(rbac: Rbac, account: StorageAccount, action: str) -> list[Grant]:
    """Every grant of `action` on the account's blobs: data roles, key holders, anonymous.

    A control-plane action (not a blob data action) is answered by `actions` alone.
    """
    data = is_blob_data_action(action)
    found: list[Grant] = []
    for assignment, role in holders(rbac, action, data, account.id, account.subscription_id):
        via = "data-role" if data else "role"
        found.append(
            Grant(
                assignment.principal_id,
                assignment.principal_type,
                via,
                role.name,
                assignment.scope,
                None,
                assignment.id,
                assignment.condition,
            )
        )
    if not data:
        return found
    found += _container_grants(rbac, account, action)
    if account.shared_key:
        for assignment, role in holders(
            rbac, LIST_KEYS, False, account.id, account.subscription_id
        ):
            found.append(
                Grant(
                    assignment.principal_id,
                    assignment.principal_type,
                    "account-keys",
                    role.name,
                    assignment.scope,
                    None,
                    assignment.id,
                    assignment.condition,
                )
            )
    if account.blob_public_access and action.lower() == BLOB_READ.lower():
        for name, level in account.public_containers:
            found.append(
                Grant(ANONYMOUS, ANONYMOUS, "anonymous", f"public access {level}", "", name)
            )
    return found


def principals(grants: Iterable[Grant]) -> list[str]:
    """The distinct principals (and `anonymous`) among the grants, in order."""
    return list(dict.fromkeys(g.principal_id for g in grants))


def resolve_account(accounts: dict[str, StorageAccount], resource_id: str) -> StorageAccount | None:
    """The account a storage account id (or a container or blob id under it) belongs to."""
    key = resource_id.lower().rstrip("/")
    if key in accounts:
        return accounts[key]
    if "/blobservices/" in key:
        return accounts.get(key.split("/blobservices/", 1)[0])
    return None


def who_can_azure(lake: Lake, action: str, resource_id: str) -> tuple[list[Grant], list[str]]:
    """Who can do `action` on a storage account's blobs, and the lake's unresolved warnings.

    Raises LookupError when the id is not a storage account (or container) in the lake.
    """
    account = resolve_account(load_accounts(lake), resource_id)
    if account is None:
        raise LookupError(resource_id)
    rbac = load_rbac(lake)
    grants = grants_on_account(rbac, account, action)
    key = resource_id.lower().rstrip("/")
    if _CONTAINERS in key:  # a container: account-wide grants plus that container's own
        name = key.split(_CONTAINERS, 1)[1].split("/", 1)[0]
        grants = [g for g in grants if g.container is None or g.container.lower() == name]
    return grants, rbac.warnings
