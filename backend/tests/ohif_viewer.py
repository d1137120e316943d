"""OHIF Viewer (npm's @ohif/app, built) served by nginx in front of a PACS's DICOMweb, and opened in
Chromium: what a hospital's radiologist sees of the results the service filed.

nginx serves the viewer and proxies /dicom-web/ to Orthanc, so the viewer and the PACS share one
origin (as a hospital deploys them, without CORS). frontend/e2e/ohif/view-study.mjs drives the
viewer with playwright-core and says what it displayed, as JSON.
"""

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deployment import REPO, Service, free_port, port_open, start_nginx

VIEW_STUDY_SCRIPT = REPO / "frontend" / "e2e" / "ohif" / "view-study.mjs"
VIEW_SECONDS = 240

# The viewer's configuration: one DICOMweb data source, the PACS behind the same origin.
APP_CONFIG = """window.config = {
  routerBasename: '/',
  extensions: [],
  modes: [],
  showStudyList: true,
  maxNumberOfWebWorkers: 2,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: false,
  showLoadingIndicator: true,
  defaultDataSourceName: 'pacs',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'pacs',
      configuration: {
        friendlyName: 'PACS',
        name: 'pacs',
        wadoUriRoot: '/dicom-web',
        qidoRoot: '/dicom-web',
        wadoRoot: '/dicom-web',
        qidoSupportsIncludeField: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: false,
        supportsWildcard: true,
        bulkDataURI: { enabled: true },
        omitQuotationForMultipartRequest: true,
      },
    },
  ],
};
"""


def ohif_dist() -> Path:
    """The built viewer `make test` unpacks (the Makefile's OHIF target)."""
    found = sorted((REPO / ".cache").glob("ohif-*/dist/index.html"))
    if not found:
        pytest.fail("OHIF Viewer is not unpacked: `make test` fetches it (the Makefile's $(OHIF) target).")
    return found[-1].parent


@dataclass(frozen=True)
class OhifViewer:
    base: str

    def view_study(self, study_uid: str, *, report_series_uid: str, screenshot: Path) -> dict[str, Any]:
        """Open the study in Chromium with its SR (the series ``report_series_uid``) in the viewport,
        and say what was displayed: ``series`` (each thumbnail's text), ``annotations`` (each of the
        SR's groups drawn: its tracking ``uid``, its ``shapes`` with their screen points, its label
        ``texts``) and ``messages`` (the viewer's warnings and errors)."""
        url = f"{self.base}/viewer?StudyInstanceUIDs={study_uid}"
        shown = subprocess.run(
            ["node", str(VIEW_STUDY_SCRIPT), url, report_series_uid, str(screenshot)],
            capture_output=True,
            text=True,
            timeout=VIEW_SECONDS,
            cwd=REPO / "frontend",
        )
        assert shown.returncode == 0, f"{shown.stdout}\n{shown.stderr}"
        return json.loads(shown.stdout.strip().splitlines()[-1])


@contextmanager
def ohif_viewer(folder: Path, *, dicomweb: str) -> Iterator[OhifViewer]:
    """The viewer at a free port, its /dicom-web/ proxied to ``dicomweb`` (a PACS's DICOMweb root)."""
    config = folder / "app-config.js"
    config.write_text(APP_CONFIG)
    port = free_port()
    server = f"""server {{
    listen 127.0.0.1:{port};
    root {ohif_dist()};
    location = /app-config.js {{ alias {config}; }}
    # Orthanc writes its own address into bulk data URIs; given the viewer's, they stay same-origin.
    location /dicom-web/ {{ proxy_pass {dicomweb.rstrip("/")}/; proxy_set_header Host $http_host; }}
    location / {{ try_files $uri $uri/ /index.html; }}
}}
"""
    nginx: Service = start_nginx(folder, server)
    try:
        nginx.wait_for(lambda: port_open(port), seconds=30, what="listening")
        yield OhifViewer(base=f"http://127.0.0.1:{port}")
    finally:
        nginx.stop()
