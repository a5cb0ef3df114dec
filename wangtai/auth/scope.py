"""Which communities a user may see, and how a query call is forced into that scope.

Used by the page filter (what to offer) and by the query layer (``wangtai.ui.data``), which enforces it on
every call whatever the page, the URL or the session asked for.
"""

from dataclasses import dataclass

import pandas as pd

from wangtai.auth.roles import OPERATIONS_QUERIES, PERSON_COLUMNS, PERSON_QUERIES, Role
from wangtai.auth.store import User


@dataclass(frozen=True)
class Scope:
    """``codes`` None = every community. ``areas`` = the 片区 the user may see whole."""

    codes: frozenset[str] | None
    areas: frozenset[str] = frozenset()
    area_of: tuple[tuple[str, str], ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.codes is None

    def allows(self, code: str | None) -> bool:
        return self.codes is None or code in self.codes

    def areas_offered(self) -> list[str]:
        """片区 that hold at least one allowed community."""
        return sorted({a for c, a in self.area_of if self.allows(c) and a})

    def default(self) -> tuple[str | None, str | None]:
        """(area, community) a restricted user starts with: whole 片区 if they hold one, else a community."""
        if self.codes is None:
            return None, None
        if self.areas:
            return sorted(self.areas)[0], None
        codes = sorted(self.codes)
        if not codes:
            return None, None
        return dict(self.area_of).get(codes[0]), codes[0]


def scope_for(user: User, communities: pd.DataFrame) -> Scope:
    """The user's scope against the communities table (community_code, area)."""
    pairs = tuple(zip(communities.get("community_code", []), communities.get("area", []), strict=False))
    if user.role.all_communities:
        return Scope(None, frozenset(), pairs)
    codes = {c for c, a in pairs if c in user.communities or a in user.areas}
    # a 片区 is seen whole when every one of its communities is allowed
    whole = {a for _, a in pairs if a and all(c in codes for c, a2 in pairs if a2 == a)}
    return Scope(frozenset(codes), frozenset(whole), pairs)


class Refused(Exception):
    """The call is outside the user's duty; the message says why (Chinese)."""


def check_query(role: Role, name: str) -> None:
    if name in PERSON_QUERIES and not role.person_lists:
        raise Refused(f"角色「{role.label}」不能查看人员名单。")
    if name in OPERATIONS_QUERIES and not (role.admin or role.key == "leader"):
        raise Refused(f"角色「{role.label}」不能查看入库明细。")


def force_params(scope: Scope, declared: set[str], params: dict) -> dict:
    """Params narrowed into ``scope``. Raises Refused when the call can show nothing the user may see
    (another community's code, a 片区 without any of theirs)."""
    if scope.unrestricted or "community_code" not in declared:
        return params
    params = dict(params)
    code, area = params.get("community_code"), params.get("area")
    area_of = dict(scope.area_of)
    if code is not None:
        if not scope.allows(code):
            raise Refused("所选社区不在您的负责范围内。")
        if area is not None and area_of.get(code) != area:
            raise Refused("所选社区不属于所选片区。")
        return params
    if area is not None and area in scope.areas:
        return params
    inside = sorted(c for c in (scope.codes or ()) if area is None or area_of.get(c) == area)
    if not inside:
        raise Refused("所选范围不在您的负责范围内。")
    if len(inside) == 1:
        params["community_code"] = inside[0]
    return params  # several communities: only rows that name an allowed community survive (filter_rows)


def filter_rows(scope: Scope, frame: pd.DataFrame, params: dict, declared: set[str]) -> pd.DataFrame:
    """Keep only rows of allowed communities. A total over communities (no community column) is kept only
    when the params pin it inside the scope."""
    if scope.unrestricted:
        return frame
    pinned = params.get("community_code") is not None or (
        params.get("area") is not None and params["area"] in scope.areas
    )
    if "community_code" in frame.columns:
        if pinned and "community_code" in declared:
            return frame  # the query filtered to an allowed community or 片区 (a list may name residences)
        return frame[frame["community_code"].isin(scope.codes)].reset_index(drop=True)
    if "community_code" not in declared:
        return frame  # not about communities: feeds, the campaign's dates
    if not pinned:
        raise Refused("该汇总包含您负责范围以外的社区。")
    return frame


def strip_people(role: Role, frame: pd.DataFrame) -> pd.DataFrame:
    if role.person_lists:
        return frame
    return frame.drop(columns=[c for c in frame.columns if c in PERSON_COLUMNS])
