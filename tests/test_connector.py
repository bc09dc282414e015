"""The connector and its transport, against the real simulator on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import time

import pytest
from poweroffice_fixtures import (
    CUSTOMERS,
    FAKE_SECRET,
    many_customers,
    settings_for,
    write_snapshot,
)

from audit.errors import ApiError, ApiUnreachable, AuthError, ConfigError
from audit.systems.http import redaction
from audit.systems.poweroffice.connector import PowerOfficeConnector, Watermark, since_text
from audit.systems.poweroffice.settings import ConnectionSettings
from audit.systems.poweroffice.sim.server import Faults, Keys, running_simulator
from audit.systems.poweroffice.transport import ApiClient, MalformedResponse, RateLimiter

pytestmark = pytest.mark.usefixtures("po_clean_env")


def connector(sim, api="v2", **overrides) -> PowerOfficeConnector:
    endpoint = settings_for(sim, **overrides).endpoint(api)
    return PowerOfficeConnector(ApiClient(endpoint), progress=False)


def ids(records) -> list[int]:
    return [r.get("Id", r.get("id")) for r in records]


@pytest.fixture
def big_sim(tmp_path):
    seed = write_snapshot(tmp_path / "big", {"customer": many_customers(95)})
    with running_simulator(seed) as s:
        yield s


# -- tokens ---------------------------------------------------------------------------


def test_one_token_serves_many_calls_while_it_is_valid(big_sim):
    list(connector(big_sim, page_size=10).records("customer"))
    assert big_sim.stats()["tokens_issued"] == 1


def test_token_is_renewed_before_it_expires_without_any_401(tmp_path):
    seed = write_snapshot(tmp_path / "s", {"customer": CUSTOMERS})
    with running_simulator(seed, token_lifetime=1) as sim:
        conn = connector(sim, token_refresh_margin=0.5)
        for _ in range(4):
            list(conn.records("customer"))
            time.sleep(0.35)
        stats = sim.stats()
    assert stats["tokens_issued"] >= 2
    assert stats["status"].get(401, 0) == 0


def test_a_401_gets_a_fresh_token_and_one_retry(po_sim):
    conn = connector(po_sim)
    list(conn.records("customer"))
    po_sim.revoke_tokens()
    again = list(conn.records("customer"))
    stats = po_sim.stats()
    assert ids(again) == [1, 2, 4]
    assert stats["status"][401] == 1
    assert stats["tokens_issued"] == 2


def test_a_token_refused_right_after_issue_raises_auth_error(po_seed):
    with running_simulator(po_seed, faults=Faults(early_expiry_rate=1.0)) as sim:
        with pytest.raises(AuthError, match="freshly issued access token"):
            list(connector(sim).records("customer"))


def test_wrong_client_key_is_reported_as_application_or_client_key_refusal(po_seed):
    with running_simulator(po_seed) as sim:
        env = {**sim.env(), "POWEROFFICE_CLIENT_KEY": FAKE_SECRET}
        endpoint = ConnectionSettings.from_env(environ=env, dotenv_path=None).endpoint("v2")
        with pytest.raises(AuthError) as caught:
            list(PowerOfficeConnector(ApiClient(endpoint), progress=False).records("customer"))
    message = str(caught.value)
    assert "application key / client key was refused by the token endpoint" in message
    assert FAKE_SECRET not in message


def test_wrong_subscription_key_is_reported_as_subscription_key_refusal(po_seed):
    with running_simulator(po_seed) as sim:
        env = {**sim.env(), "POWEROFFICE_SUBSCRIPTION_KEY": FAKE_SECRET}
        endpoint = ConnectionSettings.from_env(environ=env, dotenv_path=None).endpoint("v2")
        with pytest.raises(AuthError) as caught:
            list(PowerOfficeConnector(ApiClient(endpoint), progress=False).records("customer"))
    assert "the subscription key was refused" in str(caught.value)
    assert FAKE_SECRET not in str(caught.value)


# -- paging ---------------------------------------------------------------------------


def test_v2_paging_reads_every_record_across_many_small_pages(big_sim):
    records = list(connector(big_sim, page_size=10).records("customer"))
    assert ids(records) == [1000 + i for i in range(95)]
    assert big_sim.stats()["routes"]["GET /v2/Customers"] == 10


def test_v2_paging_stops_at_204_when_the_last_page_is_full(tmp_path):
    seed = write_snapshot(tmp_path / "s", {"customer": many_customers(40)})
    with running_simulator(seed) as sim:
        records = list(connector(sim, page_size=10).records("customer"))
        stats = sim.stats()
    assert len(records) == 40
    assert stats["routes"]["GET /v2/Customers"] == 5
    assert stats["status"][204] == 1


def test_v1_paging_with_skip_and_top_reads_every_record(big_sim):
    records = list(connector(big_sim, api="v1", page_size=10).records("customer"))
    assert ids(records) == [1000 + i for i in range(95)]
    assert big_sim.stats()["routes"]["GET /v1/Customer"] == 10


def test_v2_incremental_read_returns_only_records_changed_after_since(po_sim):
    records = list(connector(po_sim).records("customer", since="2024-01-02T10:00:00+00:00"))
    assert ids(records) == [4]


def test_v1_incremental_read_is_exclusive_like_v2(po_sim):
    records = list(connector(po_sim, api="v1").records("customer", since="2024-01-02T10:00:00Z"))
    assert ids(records) == [4]


def test_v1_incremental_filter_is_pascalcase_in_parentheses(po_sim):
    list(connector(po_sim, api="v1").records("customer", since="2024-01-02T10:00:00Z"))
    sent = [q for m, path, q in po_sim.requests_seen() if path == "/v1/Customer/"]
    assert sent and all(q["$filter"] == "(LastChanged gt DateTimeOffset'2024-01-02T10:00:00Z')" for q in sent)


def test_v1_pages_are_ordered_by_id(tmp_path):
    seed = write_snapshot(tmp_path / "s", {"customer": many_customers(7)})
    with running_simulator(seed) as sim:
        records = list(connector(sim, api="v1", page_size=3).records("customer"))
        sent = [q for m, path, q in sim.requests_seen() if path == "/v1/Customer/"]
    assert len(records) == 7 and len(sent) == 3
    assert all(q["$orderby"] == "Id" and "$top" in q for q in sent)


def test_v1_stamps_with_a_space_before_the_offset_give_the_watermark():
    mark = Watermark()
    mark.offer("2023-10-25T07:58:57 +00:00")
    mark.offer("2023-10-25T08:58:57 +02:00")
    assert mark.text == "2023-10-25T07:58:57 +00:00"


def test_a_v1_stamp_as_since_is_sent_as_iso_8601():
    assert since_text("2023-10-25T07:58:57 +00:00") == "2023-10-25T07:58:57Z"


# -- contact persons ------------------------------------------------------------------


def test_v2_contact_persons_are_one_list_without_contact_ids(po_sim):
    found = list(connector(po_sim).contact_persons())
    assert ids(found) == [7, 8, 9]
    sent = [q for m, path, q in po_sim.requests_seen() if path == "/v2/ContactPersons"]
    assert len(sent) == 1 and "contactIds" not in sent[0]


def test_v1_contact_persons_come_from_party_contact_person(po_sim):
    found = list(connector(po_sim, api="v1").contact_persons())
    assert ids(found) == [7, 8, 9]
    assert po_sim.stats()["routes"]["GET /v1/PartyContactPerson"] == 1


# -- rate limit and retries -----------------------------------------------------------


def test_429_answers_are_retried_and_never_reach_the_caller(tmp_path):
    seed = write_snapshot(tmp_path / "s", {"customer": many_customers(15)})
    with running_simulator(seed, rate_limit=8) as sim:
        records = list(connector(sim, page_size=1, rate_limit=1000).records("customer"))
        stats = sim.stats()
    assert stats["rate_limited"] > 0
    assert len(records) == 15


def test_client_side_limiter_keeps_under_the_server_rate_limit_without_429s(tmp_path):
    # the documented v2 limit, counted in a sliding second, against the client's defaults
    seed = write_snapshot(tmp_path / "s", {"customer": many_customers(45)})
    with running_simulator(seed, rate_limit=10) as sim:
        endpoint = ConnectionSettings.from_env(environ=sim.env(), dotenv_path=None, page_size=3).endpoint("v2")
        assert (endpoint.rate_limit, endpoint.rate_burst) == (9.0, 1.0)
        records = list(PowerOfficeConnector(ApiClient(endpoint), progress=False).records("customer"))
        stats = sim.stats()
    assert len(records) == 45
    assert stats["requests"] >= 16 and stats["rate_limited"] == 0


def test_retry_after_header_sets_the_wait_before_the_next_attempt(po_sim):
    po_sim.script(
        "GET",
        "/v2/Customers",
        status=429,
        headers={"Retry-After": "1"},
        body={"statusCode": "429", "message": "Rate limit is exceeded. Try again in 1 seconds."},
    )
    conn = connector(po_sim)
    started = time.monotonic()
    records = list(conn.records("customer"))
    assert ids(records) == [1, 2, 4]
    assert time.monotonic() - started >= 1.0


def test_5xx_answers_and_dropped_connections_are_retried_until_complete(big_sim_faulty):
    records = list(connector(big_sim_faulty, page_size=5, max_attempts=12).records("customer"))
    stats = big_sim_faulty.stats()
    assert ids(records) == [1000 + i for i in range(95)]
    assert stats["injected_errors"] > 0 and stats["dropped"] > 0


@pytest.fixture
def big_sim_faulty(tmp_path):
    seed = write_snapshot(tmp_path / "big", {"customer": many_customers(95)})
    with running_simulator(seed, faults=Faults(error_rate=0.2, drop_rate=0.2, seed=7)) as s:
        yield s


def test_slow_answers_beyond_the_read_timeout_are_retried(tmp_path):
    seed = write_snapshot(tmp_path / "s", {"customer": many_customers(12)})
    with running_simulator(seed, faults=Faults(slow_rate=0.3, slow_seconds=0.6, seed=3)) as sim:
        records = list(connector(sim, page_size=3, read_timeout=0.25, max_attempts=10).records("customer"))
        stats = sim.stats()
    assert stats["slow"] > 0
    assert len(records) == 12


def test_an_api_that_does_not_answer_raises_api_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ConnectionSettings(
        application_key="a-key",
        client_key="c-key",
        subscription_key="s-key",
        v2_url=f"http://127.0.0.1:{port}/v2",
        max_attempts=2,
        backoff_initial=0.01,
        backoff_max=0.02,
    )
    with pytest.raises(ApiUnreachable, match="no answer after 2 attempts"):
        list(PowerOfficeConnector(ApiClient(settings.endpoint("v2")), progress=False).records("customer"))


# -- malformed answers ----------------------------------------------------------------


def test_a_server_repeating_the_same_full_page_is_an_error_not_an_endless_fetch(po_sim):
    page = [{"Id": 901, "Name": "Åse"}, {"Id": 902, "Name": "Øystein"}]
    po_sim.script("GET", "/v2/Customers", body=page, times=50)
    with pytest.raises(MalformedResponse, match=r"customer page 2: .* same records as page 1; paging does not advance"):
        list(connector(po_sim, page_size=2).records("customer"))
    assert po_sim.stats()["routes"].get("GET /v2/Customers", 0) <= 3


def test_malformed_json_raises_an_error_naming_the_url(po_sim):
    po_sim.script("GET", "/v2/Customers", body=b'[{"Id": 1, "Name": "Bj')
    with pytest.raises(MalformedResponse, match=r"customer page 1: http://127\.0\.0\.1:\d+/v2/Customers.*not JSON"):
        list(connector(po_sim).records("customer"))


def test_a_record_without_id_raises_an_error_naming_record_and_page(po_sim):
    po_sim.script("GET", "/v2/Customers", body=[{"Id": 1, "Name": "Ola"}, {"Name": "Kari uten Id"}])
    with pytest.raises(MalformedResponse, match=r"customer record 2 of page 1 from .* has no 'Id'"):
        list(connector(po_sim).records("customer"))


def test_a_record_whose_id_is_text_is_rejected_as_an_unexpected_type(po_sim):
    po_sim.script("GET", "/v2/Customers", body=[{"Id": "1", "Name": "Ola"}])
    with pytest.raises(MalformedResponse, match=r"has Id='1' \(str\); expected an integer"):
        list(connector(po_sim).records("customer"))


def test_a_v2_page_that_is_an_object_instead_of_a_list_is_rejected(po_sim):
    po_sim.script("GET", "/v2/Customers", body={"data": []})
    with pytest.raises(MalformedResponse, match="JSON dict where a list was expected"):
        list(connector(po_sim).records("customer"))


def test_a_v1_answer_with_success_false_is_an_api_error(po_sim):
    validation = {"errorLogReference": "x1", "summary": "Noe gikk galt", "exception": "OData"}
    refusal = {"success": False, "validation": validation}
    po_sim.script("GET", "/v1/Customer", body=refusal)
    with pytest.raises(ApiError, match="success=false: Noe gikk galt"):
        list(connector(po_sim, api="v1").records("customer"))


def test_a_mail_address_without_id_is_a_warning_not_a_silent_skip(po_sim):
    conn = connector(po_sim)
    assert conn.mail_address("customer", {"Id": 1, "MailAddress": {"City": "Oslo"}}) is None
    assert conn.warnings == ["customer 1: its MailAddress has no integer 'Id'; skipped"]


# -- settings and secrets -------------------------------------------------------------


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "POWEROFFICE_APPLICATION_KEY=from-file-app\nPOWEROFFICE_CLIENT_KEY=from-file-client\n"
        "POWEROFFICE_V1_URL=http://file.example/\n",
        encoding="utf-8",
    )
    settings = ConnectionSettings.from_env(environ={"POWEROFFICE_CLIENT_KEY": "from-env-client"}, dotenv_path=dotenv)
    assert settings.application_key.get_secret_value() == "from-file-app"
    assert settings.client_key.get_secret_value() == "from-env-client"
    assert settings.v1_url == "http://file.example"


def test_token_url_defaults_to_each_generations_own_endpoint():
    settings = ConnectionSettings(
        application_key="a-key",
        client_key="c-key",
        subscription_key="s-key",
        v2_url="https://goapi.poweroffice.net/Demo/v2",
    )
    assert settings.endpoint("v2").token_url == "https://goapi.poweroffice.net/Demo/OAuth/Token"
    assert settings.endpoint("v1").token_url == "https://api.poweroffice.net/OAuth/Token"


def test_missing_subscription_key_for_v2_is_a_config_error_naming_the_variable():
    settings = ConnectionSettings.from_env(
        environ={"POWEROFFICE_APPLICATION_KEY": "a-key", "POWEROFFICE_CLIENT_KEY": "c-key"}, dotenv_path=None
    )
    with pytest.raises(ConfigError, match="POWEROFFICE_SUBSCRIPTION_KEY"):
        settings.endpoint("v2")


def test_a_fake_key_never_appears_in_debug_logs(po_seed, po_debug_logs):
    keys = Keys(application_key=FAKE_SECRET, client_key="klient-nøkkel-123", subscription_key="abonnement-456")
    with running_simulator(po_seed, keys=keys) as sim:
        conn = connector(sim)
        list(conn.records("customer"))
        sim.revoke_tokens()
        list(conn.records("supplier"))
        token = conn.client.tokens.get()
    basic = base64.b64encode(f"{FAKE_SECRET}:klient-nøkkel-123".encode()).decode()
    text = po_debug_logs.text
    assert "GET" in text  # the requests were logged
    assert FAKE_SECRET not in text
    assert basic not in text
    assert token not in text


def test_redacted_urls_mask_secret_query_parameters_and_user_info():
    url = "https://user:pw@goapi.example/v2/Customers?PageNumber=2&subscription-key=abc123&access_token=t0k3n"
    shown = redaction.redact_url(url)
    assert "abc123" not in shown and "t0k3n" not in shown and "pw" not in shown
    assert shown.startswith("https://goapi.example/v2/Customers?PageNumber=2")


def test_rate_limiter_spaces_requests_one_over_rate_apart():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(rate=10, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert waits == pytest.approx([0.1, 0.1, 0.1, 0.1])


def test_a_429_without_retry_after_waits_as_long_as_its_body_says():
    import requests

    from audit.systems.poweroffice.transport import _retry_after_seconds

    response = requests.Response()
    response.status_code = 429
    response._content = b'{"statusCode": "429", "message": "Rate limit is exceeded. Try again in 3 seconds."}'
    assert _retry_after_seconds(response) == 3.0


def test_an_invalid_tuning_value_is_a_config_error_naming_the_variable():
    with pytest.raises(ConfigError, match="POWEROFFICE_PAGE_SIZE") as caught:
        ConnectionSettings.from_env(
            environ={"POWEROFFICE_PAGE_SIZE": "0", "POWEROFFICE_APPLICATION_KEY": FAKE_SECRET},
            dotenv_path=None,
        )
    assert FAKE_SECRET not in str(caught.value)


def test_retry_after_is_read_in_seconds_or_as_an_http_date():
    import requests

    from audit.systems.http.retries import retry_after_seconds

    def answer(value: str) -> requests.Response:
        response = requests.Response()
        response.status_code, response.headers["Retry-After"] = 503, value
        return response

    assert retry_after_seconds(answer("7")) == 7.0
    assert retry_after_seconds(answer("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # in the past: no wait
    assert retry_after_seconds(answer("soon")) is None
