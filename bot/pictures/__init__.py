"""Pictures of every exercise stage: a still (PNG) and an animation (GIF), drawn from poses.

Platform-free: nothing here knows about Telegram, Discord or the terminal; callers get file
paths and send them however their platform likes.

    from bot.pictures import Pictures, load_poses

    poses = load_poses(content_dir, programme)  # ContentError naming file/exercise/stage/field
    pictures = Pictures(poses, cache_dir_beside(db_path))
    pictures.warm()                              # at start-up, inside the running loop
    path = await pictures.animation_async("side_plank", stage_index)   # GIF, 480x320, 24 frames
    path = await pictures.still_async("side_plank", stage_index)       # PNG, 480x320
    files = pictures.ready("side_plank", stage_index)  # StageFiles or None: never waits
    files.key                                    # changes when the picture does: key -> file_id
    pictures.contact_sheet(out_dir)              # every PNG and GIF plus overview.png

The poses live in content/poses.toml (format described at its top); the picture's words are
the exercise `title` and stage `label` there, plus its [words] table.
"""
from bot.pictures.library import Pictures, StageFiles, cache_dir_beside
from bot.pictures.loader import POSES_FILE, load_poses
from bot.pictures.model import PoseBook, StagePicture

__all__ = [
    "POSES_FILE", "PoseBook", "Pictures", "StageFiles", "StagePicture", "cache_dir_beside",
    "load_poses",
]
