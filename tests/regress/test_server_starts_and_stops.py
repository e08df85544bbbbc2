"""The regression frame itself: a server starts, answers a healthy client, stops on SIGTERM."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, check, done

srv = Srv(tag="frame").start()
check(srv.healthy(), "create/write/read/close as smb3test1")
done(srv)
