"""大屏 — full screen for the wall screen and meetings: big live figures, a rotation of views, snapshots.

Configured by its link (see wangtai/ui/screen.py), e.g. ``/screen?views=overview,map,campaign,communities
&every=20`` for a wall screen, ``/screen?community=…&live=0`` for a meeting about one community.
"""

from wangtai.ui import screen
from wangtai.ui.setup import setup

filters = setup("大屏", "🖥️", screen=True)

screen.show(filters)
