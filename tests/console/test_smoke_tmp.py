from tests.console.conftest import AREA, Server


async def test_smoke(server: Server, browsers) -> None:
    await server.add_user("admin1", "admin")
    await server.add_user("lan", "member", [AREA])
    b = await browsers("admin1")
    for path in ["/console/", "/console/notices", "/console/notices/new", "/console/delivery",
                 "/console/account"]:
        status, text = await b.get(path)
        assert status == 200, (path, text[:3000])
    m = await browsers("lan")
    status, text = await m.post("/console/notices", {"text": "Lịch tiêm chủng\nSáng mai", "areas": AREA,
                                                    "topics": "chung", "priority": "normal", "when": "now", "ack": "1"})
    assert status == 200, text[:3000]
    print(text[:200])
