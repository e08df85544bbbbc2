#!/usr/bin/python3
"""Cross-check src/rpc against an independent NDR implementation: impacket
marshals the requests and parses our response stubs.

usage: rpc_impacket_check.py <path to rpc_dump>
Exit 77 (meson: skipped) when impacket is not installed."""
import subprocess
import sys

try:
    from impacket.dcerpc.v5 import srvs, wkst
    from impacket.dcerpc.v5.ndr import NULL
except ImportError:
    sys.exit(77)

DUMP = sys.argv[1]
SHARES = [("data", 0, "Team data", "/srv/data"), ("public", 0, "", "/srv/public"),
          ("m\u00fcsic", 0, "UTF-8 name", "/srv/music"), ("IPC$", 0x80000003, "IPC Service", "")]


def run(pipe, req, frag=4280):
    out = subprocess.run([DUMP, pipe, str(req.opnum), req.getData().hex(), str(frag)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return bytes.fromhex(out.stdout.strip())


def s(v):
    return v[:-1] if v.endswith("\x00") else v


def share_enum(level, frag=4280):
    req = srvs.NetrShareEnum()
    req["ServerName"] = "\\\\SMB3D\x00"
    req["InfoStruct"]["Level"] = level
    req["InfoStruct"]["ShareInfo"]["tag"] = level
    req["InfoStruct"]["ShareInfo"]["Level%d" % level]["Buffer"] = NULL
    req["PreferedMaximumLength"] = 0xFFFFFFFF
    req["ResumeHandle"] = 0
    resp = srvs.NetrShareEnumResponse(run("srvsvc", req, frag))
    assert resp["ErrorCode"] == 0, resp["ErrorCode"]
    assert resp["TotalEntries"] == len(SHARES)
    ctr = resp["InfoStruct"]["ShareInfo"]["Level%d" % level]
    assert ctr["EntriesRead"] == len(SHARES)
    for got, (name, typ, comment, path) in zip(ctr["Buffer"], SHARES):
        assert s(got["shi%d_netname" % level]) == name, got
        if level == 0:
            continue
        assert got["shi%d_type" % level] == typ
        assert s(got["shi%d_remark" % level]) == comment
        if level in (2, 502):
            assert s(got["shi%d_path" % level]) == path


def share_get_info(name, level):
    req = srvs.NetrShareGetInfo()
    req["ServerName"] = "\\\\SMB3D\x00"
    req["NetName"] = name + "\x00"
    req["Level"] = level
    return srvs.NetrShareGetInfoResponse(run("srvsvc", req))


for level in (0, 1, 2, 501, 502):
    share_enum(level)
share_enum(1, frag=1024)
share_enum(502, frag=128)

r = share_get_info("DATA", 2)
assert r["ErrorCode"] == 0 and s(r["InfoStruct"]["ShareInfo2"]["shi2_path"]) == "/srv/data"
r = share_get_info("data", 1005)
assert r["ErrorCode"] == 0 and r["InfoStruct"]["ShareInfo1005"]["shi1005_flags"] == 0
r = share_get_info("nope", 1)
assert r["ErrorCode"] == 2310

req = srvs.NetrServerGetInfo()
req["ServerName"] = "\\\\SMB3D\x00"
req["Level"] = 101
r = srvs.NetrServerGetInfoResponse(run("srvsvc", req))
i = r["InfoStruct"]["ServerInfo101"]
assert r["ErrorCode"] == 0 and s(i["sv101_name"]) == "SMB3D" and s(i["sv101_comment"]) == "smb3d server"
assert i["sv101_platform_id"] == 500 and i["sv101_version_major"] == 6 and i["sv101_type"] == 0x8003
req["Level"] = 102
r = srvs.NetrServerGetInfoResponse(run("srvsvc", req))
assert r["ErrorCode"] == 0 and s(r["InfoStruct"]["ServerInfo102"]["sv102_name"]) == "SMB3D"

for level in (100, 101, 102):
    req = wkst.NetrWkstaGetInfo()
    req["ServerName"] = "\\\\SMB3D\x00"
    req["Level"] = level
    r = wkst.NetrWkstaGetInfoResponse(run("wkssvc", req))
    i = r["WkstaInfo"]["WkstaInfo%d" % level]
    assert r["ErrorCode"] == 0
    assert s(i["wki%d_computername" % level]) == "SMB3D"
    assert s(i["wki%d_langroup" % level]) == "WORKGROUP"

print("impacket decoded every response")
