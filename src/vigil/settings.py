"""What each part of Vigil is given from the configuration: plain settings of the analysis,
the photo limits and the public broadcast, read from ``vigil.toml``'s sections."""

from __future__ import annotations

from vigil.analytics.analyzer import AnalysisSettings
from vigil.config import AnalyticsConfig, Config, FacesConfig
from vigil.faces.images import ImageLimits
from vigil.faces.photos import Photos
from vigil.publishing.broadcast import BroadcastSettings


def analysis_settings(config: AnalyticsConfig, threads: int = 0) -> AnalysisSettings:
    """``threads``: the cores the analysing process may use (0: FFmpeg decides)."""
    return AnalysisSettings(
        sample_fps=config.sample_fps,
        motion_threshold=config.motion_threshold,
        best_per_track=config.best_per_track,
        decode_threads=threads,
        busy_lag_s=config.busy_lag_s,
        lag_bound_s=config.lag_bound_s,
        min_sample_fps=config.min_sample_fps,
    )


def image_limits(config: FacesConfig) -> ImageLimits:
    return ImageLimits(max_bytes=config.max_image_bytes, max_pixels=config.max_image_pixels)


def uploaded_photos(config: FacesConfig) -> Photos:
    return Photos(
        image_limits(config),
        concurrent=config.max_concurrent,
        wait_s=config.busy_wait_s,
        per_minute=config.photos_per_minute,
    )


def broadcast_settings(config: Config) -> BroadcastSettings:
    p = config.publishing
    return BroadcastSettings(delay_s=p.delay_s, fps=p.fps, idle_s=p.idle_s)
