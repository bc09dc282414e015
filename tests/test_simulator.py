"""The PowerOffice Go simulator, spoken to with plain requests on 127.0.0.1."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
import requests
from poweroffice_fixtures import subprocess_env, write_snapshot

from audit.systems.poweroffice.sim.server import (
    DEMO_APPLICATION_KEY,
    DEMO_CLIENT_KEY,
    DEMO_SUBSCRIPTION_KEY,
    Faults,
    running_simulator,
)

SUB = {"Ocp-Apim-Subscription-Key": DEMO_SUBSCRIPTION_KEY}

pytestmark = pytest.mark.usefixtures("po_clean_env")


def basic(app=DEMO_APPLICATION_KEY, client=DEMO_CLIENT_KEY) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{app}:{client}".encode()).decode()}


def token(s, api="v2") -> str:
    url = s.v2_token_url if api == "v2" else s.v1_token_url
    headers = {**basic(), **(SUB if api == "v2" else {})}
    r = requests.post(url, headers=headers, data={"grant_type": "client_credentials"}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def v2(s, method, path, **kw):
    headers = {**SUB, "Authorization": f"Bearer {token(s)}", **kw.pop("headers", {})}
    return requests.request(method, s.v2_url + path, headers=headers, timeout=5, **kw)


def v1(s, method, path, **kw):
    headers = {"Authorization": f"Bearer {token(s, 'v1')}", **kw.pop("headers", {})}
    return requests.request(method, s.v1_url + path, headers=headers, timeout=5, **kw)


# -- tokens and keys ------------------------------------------------------------------


def test_token_answer_has_bearer_type_and_lifetime(po_sim):
    r = requests.post(
        po_sim.v2_token_url, headers={**basic(), **SUB}, data={"grant_type": "client_credentials"}
    )
    body = r.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 1200)
    assert len(body["access_token"]) > 20


def test_token_endpoint_refuses_a_wrong_key_pair_with_invalid_client(po_sim):
    r = requests.post(
        po_sim.v2_token_url,
        headers={**basic(client="feil"), **SUB},
        data={"grant_type": "client_credentials"},
    )
    assert (r.status_code, r.json()) == (400, {"error": "invalid_client"})


def test_v2_call_with_a_wrong_subscription_key_gets_401_in_api_management_words(po_sim):
    r = requests.post(
        po_sim.v2_token_url,
        headers={**basic(), "Ocp-Apim-Subscription-Key": "feil"},
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 401
    assert "invalid subscription key" in r.json()["message"]


def test_v1_token_needs_no_subscription_key(po_sim):
    r = requests.post(po_sim.v1_token_url, headers=basic(), data={"grant_type": "client_credentials"})
    assert (r.status_code, r.json()["expires_in"]) == (200, 600)


def test_an_expired_token_gets_401_problem_details(po_seed):
    import time

    with running_simulator(po_seed, token_lifetime=0.2) as s:
        t = token(s)
        time.sleep(0.3)
        r = requests.get(s.v2_url + "/Customers", headers={**SUB, "Authorization": f"Bearer {t}"})
    assert r.status_code == 401
    assert r.json()["Title"] == "Unauthorized" and r.json()["Status"] == 401


def test_a_v1_token_is_not_accepted_by_v2(po_sim):
    r = requests.get(
        po_sim.v2_url + "/Customers", headers={**SUB, "Authorization": f"Bearer {token(po_sim, 'v1')}"}
    )
    assert r.status_code == 401


# -- reading --------------------------------------------------------------------------


def test_v2_pages_by_page_number_and_size(po_sim):
    r = v2(po_sim, "GET", "/Customers", params={"PageNumber": 2, "PageSize": 2})
    assert [c["Id"] for c in r.json()] == [4]


def test_v2_empty_page_is_204_no_content(po_sim):
    r = v2(po_sim, "GET", "/Customers", params={"PageNumber": 3, "PageSize": 2})
    assert (r.status_code, r.content) == (204, b"")


def test_v2_refuses_odata_paging_with_400(po_sim):
    r = v2(po_sim, "GET", "/Customers", params={"$top": 2})
    assert r.status_code == 400 and r.json()["Status"] == 400


def test_v2_last_changed_filter_is_exclusive(po_sim):
    r = v2(
        po_sim, "GET", "/Customers", params={"lastChangedDateTimeOffsetGreaterThan": "2024-01-02T10:00:00Z"}
    )
    assert [c["Id"] for c in r.json()] == [4]


def test_v2_fields_parameter_limits_the_fields(po_sim):
    r = v2(po_sim, "GET", "/Suppliers", params={"Fields": "Id"})
    assert r.json() == [{"Id": 3}, {"Id": 5}]


def test_v2_contact_persons_are_filtered_by_contact_ids(po_sim):
    r = v2(po_sim, "GET", "/ContactPersons", params={"contactIds": "3,4"})
    assert [c["Id"] for c in r.json()] == [8, 9]


def test_v1_wraps_lists_and_takes_the_documented_filter(po_sim):
    # docs/api/rest/filtering.md: PascalCase field, in parentheses, DateTimeOffset'...'
    r = v1(po_sim, "GET", "/Customer/", params={"$filter": "(LastChanged ge DateTimeOffset'2024-01-02T10:00:00Z')"})
    body = r.json()
    assert body["success"] is True
    assert [c["id"] for c in body["data"]] == [2, 4]


def test_v1_gt_filter_is_exclusive(po_sim):
    r = v1(po_sim, "GET", "/Customer/", params={"$filter": "(LastChanged gt DateTimeOffset'2024-01-02T10:00:00Z')"})
    assert [c["id"] for c in r.json()["data"]] == [4]


def test_v1_refuses_the_camelcase_filter_with_200_and_success_false(po_sim):
    r = v1(po_sim, "GET", "/Customer/", params={"$filter": "lastChanged ge datetimeoffset'2024-01-02T10:00:00Z'"})
    body = r.json()
    assert r.status_code == 200 and body["success"] is False and "data" not in body
    assert body["validation"]["exception"] == "OData" and body["validation"]["summary"]


def test_v1_refuses_skip_and_top_without_orderby(po_sim):
    r = v1(po_sim, "GET", "/Customer/", params={"$skip": 0, "$top": 2})
    assert r.status_code == 200 and r.json()["success"] is False


def test_v1_pages_in_the_orderby_order_and_counts_the_whole_set(po_sim):
    r = v1(po_sim, "GET", "/Customer/", params={"$skip": 1, "$top": 1, "$orderby": "Id desc"})
    body = r.json()
    assert [c["id"] for c in body["data"]] == [2] and body["count"] == 3


def test_v1_orders_decimal_and_whole_numbers_by_value(tmp_path):
    """``$orderby`` on a number field (``hourlyRate: number``, route_get_customer_.md) orders
    by value when the seed mixes whole numbers and decimals (read as ``Decimal``)."""
    (tmp_path / "v1seed").mkdir()
    (tmp_path / "v1seed" / "customer.jsonl").write_text(
        '{"id": 1, "name": "A", "hourlyRate": 100}\n'
        '{"id": 2, "name": "B", "hourlyRate": 150.50}\n'
        '{"id": 3, "name": "C", "hourlyRate": 9.5}\n',
        encoding="utf-8",
    )
    with running_simulator(tmp_path / "v1seed") as s:
        params = {"$skip": 0, "$top": 10, "$orderby": "HourlyRate"}
        body = v1(s, "GET", "/Customer/", params=params).json()
    assert body["success"] is True, body
    assert [c["id"] for c in body["data"]] == [3, 1, 2]


def test_v1_party_contact_person_lists_every_contact_person(po_sim):
    body = v1(po_sim, "GET", "/PartyContactPerson/").json()
    assert sorted(c["id"] for c in body["data"]) == [7, 8, 9]


def test_v1_contact_post_updates_a_contact_person_under_its_party(po_sim):
    record = v1(po_sim, "GET", "/Customer/1/Contact/7").json()["data"]
    record["firstName"] = "Kari"
    saved = v1(po_sim, "POST", "/Customer/1/Contact/", json=record).json()["data"]
    assert saved["firstName"] == "Kari" and saved["partyId"] == 1
    assert v2(po_sim, "GET", "/ContactPersons/1/7").json()["FirstName"] == "Kari"


def test_v1_serves_v2_seed_records_in_v1_shape(po_sim):
    """The v1 names are those of route_get_customer_.md (``code``, ``mailAddress {id,
    address1, city, zipCode, countryCode, lastChanged}``), written out here rather than
    taken from the client's table, so that the simulator is not checked against the client."""
    body = v1(po_sim, "GET", "/Customer/1").json()
    assert body["data"] == {
        "id": 1,
        "code": 10001,
        "name": "Bjørn Ærlig",
        "firstName": "Bjørn",
        "lastName": "Ærlig",
        "isPerson": True,
        "emailAddress": "bjorn@example.no",
        "lastChanged": "2024-01-01T10:00:00+00:00",
        "mailAddress": {
            "id": 501,
            "address1": "Storgata 1",
            "city": "Oslo",
            "zipCode": "0150",
            "countryCode": "NO",
            "lastChanged": "2024-01-01T10:00:00+00:00",
        },
    }


def test_v2_serves_v1_seed_records_in_v2_shape(tmp_path):
    v1_customer = {
        "id": 11,
        "code": 3,
        "name": "Ærlig Østby",
        "lastChanged": "2024-03-01T08:00:00Z",
        "mailAddress": {"id": 77, "city": "Bodø", "zipCode": "0801", "isPrimary": True},
    }
    seed = write_snapshot(tmp_path / "v1seed", {"customer": [v1_customer]})
    with running_simulator(seed) as s:
        got = v2(s, "GET", "/Customers/11").json()
        same = v1(s, "GET", "/Customer/11").json()["data"]
    assert got["Name"] == "Ærlig Østby" and got["MailAddress"] == {
        "Id": 77,
        "City": "Bodø",
        "ZipCode": "0801",
    }
    assert same == v1_customer


def test_a_parquet_seed_with_dotted_columns_is_served_nested(tmp_path):
    import polars as pl

    (tmp_path / "pq").mkdir()
    columns = {"Id": [21], "Name": ["Parkett AS"], "MailAddress.Id": [91], "MailAddress.City": ["Oslo"]}
    pl.DataFrame(columns).write_parquet(tmp_path / "pq" / "customer.parquet")
    with running_simulator(tmp_path / "pq") as s:
        got = v2(s, "GET", "/Customers/21").json()
    assert (got["Name"], got["MailAddress"]) == ("Parkett AS", {"Id": 91, "City": "Oslo"})


def test_external_codes_cross_between_the_generations(tmp_path):
    """v1 ``externalCode`` of a contact person and of a mail address
    (route_get_partycontactperson_.md, route_get_customer_.md) is v2 ``ExternalCode``
    (ContactPersonDto, ContactAddressDto)."""
    customer = {"id": 14, "name": "Kode AS", "mailAddress": {"id": 78, "city": "Oslo", "externalCode": "A-1"}}
    person = {"id": 15, "partyId": 14, "firstName": "Kari", "externalCode": "K-7"}
    seed = write_snapshot(tmp_path / "v1seed", {"customer": [customer], "contactperson": [person]})
    with running_simulator(seed) as s:
        got_customer = v2(s, "GET", "/Customers/14").json()
        got_person = v2(s, "GET", "/ContactPersons/14/15").json()
    assert got_customer["MailAddress"]["ExternalCode"] == "A-1"
    assert got_person["ExternalCode"] == "K-7"


def test_v2_serves_a_stamp_seeded_without_an_offset_in_norwegian_local_time(tmp_path):
    """``format: date-time`` (CustomerDto) needs an offset; a seeded v1 stamp without one
    is Norwegian local time (README, "Stamps without an offset"): +01:00 in winter, +02:00 in summer."""
    winter = {"id": 12, "name": "Vinter AS", "lastChanged": "2024-01-04T09:30:00"}
    summer = {"id": 13, "name": "Sommer AS", "lastChanged": "2024-07-04T09:30:00"}
    seed = write_snapshot(tmp_path / "v1seed", {"customer": [winter, summer]})
    with running_simulator(seed) as s:
        got = [v2(s, "GET", f"/Customers/{i}").json()["LastChangedDateTimeOffset"] for i in (12, 13)]
    assert got == ["2024-01-04T09:30:00+01:00", "2024-07-04T09:30:00+02:00"]


def test_unknown_id_is_404_problem_details_on_v2(po_sim):
    r = v2(po_sim, "GET", "/Customers/999")
    assert r.status_code == 404 and r.json()["Title"] == "Not Found"


def test_unknown_id_is_200_with_success_false_on_v1(po_sim):
    r = v1(po_sim, "GET", "/Customer/999")
    assert r.status_code == 200 and r.json()["success"] is False and "data" not in r.json()


# -- writing --------------------------------------------------------------------------


def test_patch_with_a_nested_path_changes_the_city_and_stamps_the_address_only(po_sim):
    before = v2(po_sim, "GET", "/Customers/1").json()
    patch = [{"op": "replace", "path": "/MailAddress/City", "value": "Bærum"}]
    r = v2(
        po_sim, "PATCH", "/Customers/1", json=patch, headers={"Content-Type": "application/json-patch+json"}
    )
    after = r.json()
    assert after["MailAddress"]["City"] == "Bærum"
    assert after["MailAddress"]["LastChangedDateTimeOffset"] > before["MailAddress"]["LastChangedDateTimeOffset"]
    # the parent's stamp does not move when only its address changes
    assert after["LastChangedDateTimeOffset"] == before["LastChangedDateTimeOffset"]


def test_patch_of_a_field_and_the_address_stamps_both(po_sim):
    before = v2(po_sim, "GET", "/Customers/1").json()
    patch = [
        {"op": "replace", "path": "/EmailAddress", "value": "b@example.no"},
        {"op": "replace", "path": "/MailAddress/City", "value": "Bærum"},
    ]
    after = v2(po_sim, "PATCH", "/Customers/1", json=patch).json()
    assert after["LastChangedDateTimeOffset"] > before["LastChangedDateTimeOffset"]
    assert after["MailAddress"]["LastChangedDateTimeOffset"] == after["LastChangedDateTimeOffset"]


def test_contact_person_is_active_is_writable_on_v2(po_sim):
    r = v2(po_sim, "PATCH", "/ContactPersons/1/7", json=[{"op": "replace", "path": "/IsActive", "value": False}])
    assert r.status_code == 200 and r.json()["IsActive"] is False


def test_customer_is_active_is_read_only_on_v2(po_sim):
    r = v2(po_sim, "PATCH", "/Customers/1", json=[{"op": "replace", "path": "/IsActive", "value": False}])
    assert r.status_code == 400


def test_patch_of_a_field_the_record_lacks_adds_it(po_sim):
    r = v2(
        po_sim,
        "PATCH",
        "/Suppliers/5",
        json=[{"op": "replace", "path": "/MailAddress/City", "value": "Hamar"}],
    )
    assert r.status_code == 200 and r.json()["MailAddress"]["City"] == "Hamar"


def test_patch_of_a_contact_person_goes_through_its_contact_id(po_sim):
    r = v2(
        po_sim, "PATCH", "/ContactPersons/3/8", json=[{"op": "replace", "path": "/LastName", "value": "Ås"}]
    )
    assert r.json()["LastName"] == "Ås"
    assert v2(po_sim, "PATCH", "/ContactPersons/1/8", json=[]).status_code == 404


def test_patch_of_the_read_only_id_is_400(po_sim):
    r = v2(po_sim, "PATCH", "/Customers/1", json=[{"op": "replace", "path": "/Id", "value": 5}])
    assert r.status_code == 400 and "read-only" in r.json()["Detail"]


def test_patch_to_a_customer_number_in_use_is_400(po_sim):
    # the v2 OpenAPI document lists 400 (not 409) among PATCH /Customers/{id} answers
    r = v2(po_sim, "PATCH", "/Customers/1", json=[{"op": "replace", "path": "/Number", "value": 10002}])
    assert r.status_code == 400 and "already used" in r.json()["Detail"]


def test_v1_post_replaces_the_whole_object_and_stamps_last_changed(po_sim):
    record = v1(po_sim, "GET", "/Customer/2").json()["data"]
    record["emailAddress"] = "ase@example.no"
    r = v1(po_sim, "POST", "/Customer", json=record)
    saved = r.json()["data"]
    assert saved["emailAddress"] == "ase@example.no"
    assert saved["lastChanged"] > record["lastChanged"]
    assert v2(po_sim, "GET", "/Customers/2").json()["EmailAddress"] == "ase@example.no"


def test_v1_post_with_a_code_in_use_is_200_with_success_false(po_sim):
    record = v1(po_sim, "GET", "/Customer/2").json()["data"]
    record["code"] = 10001
    r = v1(po_sim, "POST", "/Customer", json=record)
    body = r.json()
    assert r.status_code == 200 and body["success"] is False and "already used" in body["validation"]["summary"]


def test_state_file_keeps_writes_across_a_restart(po_seed, tmp_path):
    state = tmp_path / "state.json"
    with running_simulator(po_seed, state_file=state) as s:
        v2(
            s,
            "PATCH",
            "/Customers/4",
            json=[{"op": "replace", "path": "/Name", "value": "Kjøkkenhagen Nord AS"}],
        )
    with running_simulator(po_seed, state_file=state) as s:
        assert v2(s, "GET", "/Customers/4").json()["Name"] == "Kjøkkenhagen Nord AS"



def test_a_written_decimal_is_served_and_kept_with_its_digits(po_seed, tmp_path):
    """A number is served and kept with the digits it was given (``150.50``), in answers and in
    the state file, never through a binary float (which would give ``150.5``)."""
    state = tmp_path / "state.json"
    patch = b'[{"op": "replace", "path": "/BillableRate", "value": 150.50}]'
    headers = {"Content-Type": "application/json-patch+json"}
    with running_simulator(po_seed, state_file=state) as s:
        r = v2(s, "PATCH", "/Customers/4", data=patch, headers=headers)
        assert r.status_code == 200 and '"BillableRate": 150.50' in r.text
    assert '"BillableRate": 150.50' in state.read_text(encoding="utf-8")
    with running_simulator(po_seed, state_file=state) as s:
        assert '"BillableRate": 150.50' in v2(s, "GET", "/Customers/4").text


# -- limits and faults ----------------------------------------------------------------


def test_requests_beyond_the_rate_limit_get_429_with_retry_after(po_seed):
    with running_simulator(po_seed, rate_limit=2) as s:
        t = token(s)
        answers = [
            requests.get(s.v2_url + "/Customers", headers={**SUB, "Authorization": f"Bearer {t}"})
            for _ in range(3)
        ]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "1"
    assert limited[0].json() == {
        "statusCode": "429",
        "message": "Rate limit is exceeded. Try again in 1 seconds.",
    }


def test_a_dropped_connection_closes_the_socket_without_an_answer(po_seed):
    with running_simulator(po_seed, faults=Faults(drop_rate=1.0)) as s:
        with pytest.raises(requests.ConnectionError):
            requests.post(
                s.v2_token_url, headers={**basic(), **SUB}, data={"grant_type": "client_credentials"}
            )


def test_fault_injection_repeats_with_the_same_seed(po_seed):
    def statuses() -> list[int]:
        with running_simulator(po_seed, faults=Faults(error_rate=0.5, seed=42)) as s:
            return [
                requests.post(
                    s.v2_token_url, headers={**basic(), **SUB}, data={"grant_type": "client_credentials"}
                ).status_code
                for _ in range(12)
            ]

    first = statuses()
    assert first == statuses()
    assert any(code >= 500 for code in first) and 200 in first


def test_audit_simulate_prints_its_urls_and_serves_until_stopped(po_seed):
    proc = subprocess.Popen(
        [sys.executable, "-m", "audit", "simulate", "--snapshot", str(po_seed), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        v2_url = lines[1].split()[-1]
        token_url = lines[2].split()[-1]
        r = requests.post(
            token_url, headers={**basic(), **SUB}, data={"grant_type": "client_credentials"}, timeout=5
        )
        assert "ready" in lines[0]
        assert v2_url.startswith("http://127.0.0.1:") and v2_url.endswith("/v2")
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_json_patch_test_that_fails_leaves_the_record_alone(po_sim):
    ops = [
        {"op": "test", "path": "/EmailAddress", "value": "someone-else@example.no"},
        {"op": "replace", "path": "/EmailAddress", "value": "ny@example.no"},
    ]
    r = v2(po_sim, "PATCH", "/Customers/1", json=ops)
    assert r.status_code == 400 and "test operation failed" in r.json()["Detail"]
    assert v2(po_sim, "GET", "/Customers/1").json()["EmailAddress"] == "bjorn@example.no"


def test_a_json_patch_test_that_holds_lets_the_replace_through(po_sim):
    ops = [
        {"op": "test", "path": "/EmailAddress", "value": "bjorn@example.no"},
        {"op": "replace", "path": "/EmailAddress", "value": "ny@example.no"},
    ]
    assert v2(po_sim, "PATCH", "/Customers/1", json=ops).json()["EmailAddress"] == "ny@example.no"


def test_the_rate_limit_is_a_sliding_window_of_one_second():
    from audit.systems.poweroffice.sim.parts import SlidingWindow

    now = [0.0]
    window = SlidingWindow(3, clock=lambda: now[0])
    assert [window.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.take() == pytest.approx(1.0)  # refused: the first leaves the window at 1.0
    now[0] = 0.5
    assert window.take() == pytest.approx(0.5)  # refusals are not counted
    now[0] = 1.0
    # t=0's three have left the window (it holds what came after 0.0, up to 1.0)
    assert [window.take() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]


def test_no_second_of_admitted_requests_holds_more_than_the_limit():
    import random

    from audit.systems.poweroffice.sim.parts import SlidingWindow

    rng = random.Random(5)
    times = sorted(rng.uniform(0, 20) for _ in range(2000))
    clock = iter(times)
    window = SlidingWindow(10, clock=lambda: next(clock))
    admitted = [t for t in times if window.take() == 0.0]
    assert len(admitted) >= 190  # about ten a second over twenty seconds
    assert all(sum(1 for u in admitted if t - 1.0 < u <= t) <= 10 for t in admitted)


def test_a_fractional_rate_limit_admits_whole_calls_at_that_average():
    from audit.systems.poweroffice.sim.parts import SlidingWindow

    assert (SlidingWindow.per_second(0.5).calls, SlidingWindow.per_second(0.5).period) == (1, 2.0)
    assert (SlidingWindow.per_second(2.5).calls, SlidingWindow.per_second(2.5).period) == (2, pytest.approx(0.8))


def test_a_since_stamp_with_an_offset_of_a_day_is_a_bad_query_not_a_server_error(po_sim):
    stamp = "2024-01-02T10:00:00+24:00"  # no zone has it (the client's reader reads no stamp)
    r = v2(po_sim, "GET", "/Customers", params={"lastChangedDateTimeOffsetGreaterThan": stamp})
    assert r.status_code == 400
    r = v1(po_sim, "GET", "/Customer/", params={"$filter": f"(LastChanged gt DateTimeOffset'{stamp}')"})
    assert r.status_code == 200 and r.json()["success"] is False


def test_a_seed_line_that_is_not_utf8_is_named_by_file_and_line(tmp_path):
    from audit.errors import SnapshotError

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "customer.jsonl").write_bytes(b'{"Id": 1}\n{"Id": 2, "Name": "\xe6"}\n')
    with pytest.raises(SnapshotError, match=r"customer\.jsonl:2: bytes that are not UTF-8"):
        with running_simulator(tmp_path / "bad"):
            pass


def test_a_patch_names_members_of_the_v2_dto_in_any_case_and_nothing_else(po_seed):
    # the v2 document's own PATCH /Customers/{id} example writes camelCase paths
    # (``/phoneNumber``); a member CustomerDto does not have is refused, not stored
    headers = {"Content-Type": "application/json-patch+json"}

    def patch(body: bytes):
        return v2(s, "PATCH", "/Customers/4", headers=headers, data=body)

    with running_simulator(po_seed) as s:
        ok = patch(b'[{"op": "replace", "path": "/phoneNumber", "value": "12345678"}]')
        assert ok.status_code == 200, ok.text
        assert ok.json()["PhoneNumber"] == "12345678" and "phoneNumber" not in ok.json()
        city = patch(b'[{"op": "replace", "path": "/mailAddress/city", "value": "Hamar"}]')
        assert city.json()["MailAddress"]["City"] == "Hamar"
        bogus = patch(b'[{"op": "replace", "path": "/Bogus", "value": 1}]')
        assert bogus.status_code == 400 and "CustomerDto has no such member" in bogus.text
        assert "Bogus" not in v2(s, "GET", "/Customers/4").json()


@pytest.mark.parametrize(
    ("text", "named"),
    [('[{"Id": 1}, 7]', "record 2 is a JSON int, not an object"), ('{"Id": 1}', "not a JSON dict")],
)
def test_a_seed_json_file_that_is_not_an_array_of_objects_names_the_record(tmp_path, text, named):
    from audit.errors import SnapshotError
    from audit.systems.poweroffice.sim.seed import read_snapshot_file

    path = tmp_path / "customer.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SnapshotError, match=f"customer.json: .*{named}"):
        read_snapshot_file(path)
