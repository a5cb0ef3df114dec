"""Demo accounts: on the first start of the synthetic demo, one account per role with a random password,
printed to the console and written to ``state/auth/demo-accounts.txt`` (mode 0600; the data directory is
never committed). Never for real data: only when the store is empty and the data is the demo's."""

import os
import secrets

from wangtai.auth.store import UserStore, auth_dir
from wangtai.paths import DataPaths

DEMO_COMMUNITY = "370211100001"  # 台东路社区, the demo's largest community
DEMO_ACCOUNTS = (
    # username, role, display name, communities
    ("leader", "领导", "演示·领导", ()),
    ("staff", "工作人员", "演示·工作人员（台东路社区）", (DEMO_COMMUNITY,)),
    ("screen", "大屏", "演示·大屏", ()),
    ("admin", "管理员", "演示·管理员", ()),
)


def accounts_file(paths: DataPaths):
    return auth_dir(paths) / "demo-accounts.txt"


def ensure_demo_accounts(paths: DataPaths, echo=print) -> list[tuple[str, str, str]]:
    """Create the demo accounts when the user store is empty; returns [(username, role, password)]."""
    from wangtai.auth import audit

    store = UserStore(paths)
    if store.count():
        return []
    created = []
    for username, role_name, display, communities in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        store.add(username, password, role_name, display_name=display, communities=communities)
        audit.record(
            paths, "user_added", "demo-bootstrap", target=username, detail=f"演示账号，角色 {role_name}"
        )
        created.append((username, role_name, password))
    lines = ["智慧王台 演示账号（合成数据专用；首次启动时生成，请妥善保管）："]
    lines += [
        f"  {role_name:<4}  用户名 {username:<7} 密码 {password}" for username, role_name, password in created
    ]
    text = "\n".join(lines) + "\n"
    file = accounts_file(paths)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    echo(text + f"（同样写入 {file}，仅本机用户可读）")
    return created
