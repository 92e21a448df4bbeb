#!/usr/bin/python3
"""The SOGo lab's SMTP sink: a minimal SMTP server on loopback that takes
what SOGo sends (SendMail, SmartReply, SmartForward, meeting responses) and
delivers it, through Dovecot's LMTP, to the lab recipients' INBOX. Mail for
any other domain is accepted and dropped (the lab reaches nothing outside).

usage: smtp-sink.py LISTEN_HOST LISTEN_PORT LMTP_HOST LMTP_PORT LAB_DOMAIN

Standard library only; no authentication, no TLS: it listens on 127.0.0.1.
"""

import smtplib
import socketserver
import sys
import time

MAX_SIZE = 50 * 1024 * 1024


def log(*parts):
    print(time.strftime("%Y-%m-%d %H:%M:%S"), *parts, flush=True)


def address(arg):
    """The address in `FROM:<a@b> SIZE=..` / `TO:<a@b>`."""
    arg = arg.split(":", 1)[1].strip() if ":" in arg else arg.strip()
    if arg.startswith("<"):
        arg = arg[1 : arg.find(">")] if ">" in arg else arg[1:]
    return arg.split()[0] if arg.split() else ""


class Session(socketserver.StreamRequestHandler):
    timeout = 120

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 eastest-lab-sink ESMTP")
        sender, rcpts = None, []
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                if verb == "EHLO":
                    self.reply("250-eastest-lab-sink")
                    self.reply("250-8BITMIME")
                    self.reply("250-SIZE %d" % MAX_SIZE)
                    self.reply("250 PIPELINING")
                else:
                    self.reply("250 eastest-lab-sink")
                sender, rcpts = None, []
            elif verb == "MAIL":
                sender, rcpts = address(line[4:]), []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if sender is None:
                    self.reply("503 5.5.1 MAIL first")
                    continue
                rcpts.append(address(line[4:]))
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 5.5.1 RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self.read_data()
                if data is None:
                    return
                self.deliver(sender, rcpts, data)
                self.reply("250 2.0.0 Ok: queued")
                sender, rcpts = None, []
            elif verb == "RSET":
                sender, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not implemented")

    def read_data(self):
        lines = []
        while True:
            raw = self.rfile.readline(1 << 20)
            if not raw:
                return None
            if raw in (b".\r\n", b".\n"):
                return b"".join(lines)
            if raw.startswith(b"."):
                raw = raw[1:]
            lines.append(raw)

    def deliver(self, sender, rcpts, data):
        domain = self.server.lab_domain.lower()
        local = [r for r in rcpts if r.lower().endswith("@" + domain)]
        dropped = [r for r in rcpts if r not in local]
        log("from=<%s> to=%s size=%d dropped=%s" % (sender, local, len(data), dropped))
        if not local:
            return
        try:
            with smtplib.LMTP(self.server.lmtp_host, self.server.lmtp_port, timeout=30) as lmtp:
                refused = lmtp.sendmail(sender or "", local, data)
                if refused:
                    log("lmtp refused", refused)
        except (smtplib.SMTPException, OSError) as e:
            log("lmtp delivery failed:", repr(e))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    host, port, lmtp_host, lmtp_port, domain = sys.argv[1:6]
    if host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("smtp-sink: listens on loopback only")
    server = Server((host, int(port)), Session)
    server.lmtp_host, server.lmtp_port, server.lab_domain = lmtp_host, int(lmtp_port), domain
    log("listening on %s:%s, delivering @%s to LMTP %s:%s" % (host, port, domain, lmtp_host, lmtp_port))
    server.serve_forever()


if __name__ == "__main__":
    main()
