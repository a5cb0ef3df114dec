"""Roles as data: which pages a role may open, which communities it sees, whether it may see person lists
and export them. Everything that enforces access (the page gate, the query layer, the exports) reads these.

Page keys are script paths relative to the repository: ``dashboard.py``, ``pages/campaign.py``, …
"""

from dataclasses import dataclass

ADMIN_PAGE = "pages/admin.py"
DATA_STATUS_PAGE = "pages/data_status.py"
DATA_IMPORT_PAGE = "pages/data_import.py"
SCREEN_PAGE = "pages/screen.py"
OVERVIEW_PAGE = "dashboard.py"
ALL = "*"  # every registered page, minus ``except_pages``


@dataclass(frozen=True)
class Role:
    key: str  # stored in the user store
    label: str  # shown, and accepted by the CLI
    pages: tuple[str, ...]  # page keys, or (ALL,)
    except_pages: tuple[str, ...] = ()
    all_communities: bool = True  # False: only the user's assigned communities / 片区
    person_lists: bool = False  # masked lists of people (the door-to-door list)
    exports: bool = False  # download buttons for lists
    admin: bool = False  # users, audit log, accepting held snapshots
    idle_expiry: bool = True  # False: a wall screen stays logged in (until its absolute expiry)

    def may_open(self, page: str, registered: tuple[str, ...]) -> bool:
        return page in self.allowed_pages(registered)

    def allowed_pages(self, registered: tuple[str, ...]) -> tuple[str, ...]:
        """The role's pages in navigation order, from the pages that exist (``registered``)."""
        if ALL in self.pages:
            return tuple(p for p in registered if p not in self.except_pages)
        allowed = tuple(p for p in registered if p in self.pages)
        if not allowed and self.key == SCREEN.key and OVERVIEW_PAGE in registered:
            return (OVERVIEW_PAGE,)  # no big-screen page installed: the overview holds aggregates only
        return allowed


LEADER = Role(
    "leader",
    "领导",
    pages=(ALL,),
    except_pages=(ADMIN_PAGE, DATA_IMPORT_PAGE),
    person_lists=True,
    exports=True,
)
STAFF = Role(
    "staff",
    "工作人员",
    pages=(ALL,),
    except_pages=(ADMIN_PAGE, DATA_STATUS_PAGE, DATA_IMPORT_PAGE, SCREEN_PAGE),
    all_communities=False,
    person_lists=True,
    exports=True,
)
SCREEN = Role("screen", "大屏", pages=(SCREEN_PAGE,), idle_expiry=False)
ADMIN = Role("admin", "管理员", pages=(DATA_STATUS_PAGE, DATA_IMPORT_PAGE, ADMIN_PAGE), admin=True)

ROLES: dict[str, Role] = {role.key: role for role in (LEADER, STAFF, SCREEN, ADMIN)}
_BY_NAME = {**ROLES, **{role.label: role for role in ROLES.values()}}

# Queries whose rows are people (masked): refused for roles without ``person_lists``.
PERSON_QUERIES = frozenset({"unregistered_newcomers"})
PERSON_COLUMNS = frozenset({"id_masked", "name_masked", "phone_masked", "person_key"})
# Operational detail (file names, refusal reasons): for administrators and leadership.
OPERATIONS_QUERIES = frozenset({"held_snapshots", "quarantine_reasons"})


def role(name: str) -> Role:
    """A role by key (``staff``) or Chinese label (``工作人员``)."""
    try:
        return _BY_NAME[name.strip()]
    except KeyError:
        names = "、".join(f"{r.label}（{r.key}）" for r in ROLES.values())
        raise ValueError(f"未知角色 {name!r}，可选：{names}") from None
