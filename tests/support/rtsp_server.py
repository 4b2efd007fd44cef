#!/usr/bin/python3
"""A loopback RTSP server for the recorder tests: GStreamer's RTSP server (Debian packages
gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good/-bad, python3-gi) serving an MP4
file's H.264 stream as rtsp://127.0.0.1:PORT/cam, in real time, from the start for every
client. Prints "ready" on stdout once it listens.

usage: rtsp_server.py FILE PORT
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    path, port = sys.argv[1], sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    launch = (
        f'( filesrc location="{path}" ! qtdemux ! h264parse '
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_launch(launch)
    factory.set_shared(False)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print("cannot listen on port", port, file=sys.stderr)
        sys.exit(1)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
