"""Machines earn nothing. On pages: crawlers, link previews, HTTP clients, API tools and
monitors (the crawler-user-agents list, our patterns and user-agents) record no event and no
points, while people's browsers are tracked. On an email's open pixel: mail scanners, image
proxies and privacy features record a machine open, which no score, statistic, segment or
sign of activity counts."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from timberframe.models import OfferPage
from wagtail_leadscore.mail.models import Email
from wagtail_leadscore.models import Contact, Event, Score, ScoreEntry, ScoringRule, Visitor

from .mail_server import html_part
from .test_mail import LATER, SENT_AT, path_of, send_one
from .test_scoring import global_score
from .test_segments import members, segment

pytestmark = pytest.mark.django_db

# Real User-Agent strings of agents that are not a person reading the page.
BOT_AGENTS = {
    # The eleven that earned points before the crawler list.
    "Mastodon link preview": "http.rb/5.1.1 (Mastodon/4.2.10; +https://mastodon.social/)",
    "Embedly": "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
    "Iframely": "Iframely/1.3.1 (+https://iframely.com/docs/about)",
    "LinkChecker": "LinkChecker/10.2.1 (+https://linkchecker.github.io/linkchecker/)",
    "W3C_Validator": "W3C_Validator/1.3 http://validator.w3.org/services",
    "PostmanRuntime": "PostmanRuntime/7.39.0",
    "insomnia": "insomnia/2023.5.8",
    "HTTPie": "HTTPie/3.2.2",
    "undici": "undici",
    "Ruby": "Ruby",
    "Microsoft Office Word": "Microsoft Office Word 2014",
    # Link previews of chats, social networks and mail clients.
    "Office link check": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Office existence discovery": "Microsoft Office Existence Discovery",
    "Slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot": "Twitterbot/1.0",
    "LinkedInBot": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient "
                   "+http://www.linkedin.com)",
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "TelegramBot": "TelegramBot (like TwitterBot)",
    "Discordbot": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "facebookexternalhit": "facebookexternalhit/1.1 "
                           "(+http://www.facebook.com/externalhit_uatext.php)",
    "Pinterest": "Pinterest/0.2 (+http://www.pinterest.com/bot.html)",
    "redditbot": "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
    "Outlook link preview": "MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview",
    "Skype and Teams URI preview": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview "
                                   "Preview/0.5 skype-url-preview@microsoft.com",
    "BingPreview": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                   "Gecko) Chrome/64.0.3282.140 Safari/537.36 Edge/17.17134 BingPreview/1.0b",
    "Google Docs": "Mozilla/5.0 (compatible; GoogleDocs; apps-spreadsheets; "
                   "+http://docs.google.com)",
    # Search engines.
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Googlebot smartphone": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
                            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 "
                            "Mobile Safari/537.36 (compatible; Googlebot/2.1; "
                            "+http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Applebot": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, "
                "like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; "
                "+http://www.apple.com/go/applebot)",
    "DuckDuckBot": "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "YandexBot": "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Baiduspider": "Mozilla/5.0 (compatible; Baiduspider/2.0; "
                   "+http://www.baidu.com/search/spider.html)",
    "PetalBot": "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Mobile Safari/537.36 (compatible; PetalBot;"
                "+https://webmaster.petalsearch.com/site/petalbot)",
    "SeznamBot": "Mozilla/5.0 (compatible; SeznamBot/4.0; "
                 "+https://o-seznam.cz/napoveda/vyhledavani/en/seznambot-crawler/)",
    # AI crawlers and assistants.
    "GPTBot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
              "+https://openai.com/gptbot)",
    "ChatGPT-User": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; "
                    "ChatGPT-User/1.0; +https://openai.com/bot",
    "ClaudeBot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
                 "ClaudeBot/1.0; +claudebot@anthropic.com)",
    "PerplexityBot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
                     "PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "CCBot": "CCBot/2.0 (https://commoncrawl.org/faq/)",
    "Bytespider": "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "Amazonbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
                 "Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot) "
                 "Chrome/119.0.6045.214 Safari/537.36",
    # SEO tools and archivers.
    "AhrefsBot": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "SemrushBot": "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "MJ12bot": "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "DotBot": "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; "
              "help@moz.com)",
    "Screaming Frog": "Screaming Frog SEO Spider/20.0",
    "ia_archiver": "ia_archiver (+http://www.alexa.com/site/help/webmasters; "
                   "crawler@alexa.com)",
    # HTTP libraries and command-line tools.
    "python-requests": "python-requests/2.32.3",
    "Python-urllib": "Python-urllib/3.11",
    "httpx": "python-httpx/0.27.0",
    "aiohttp": "Python/3.11 aiohttp/3.9.5",
    "Scrapy": "Scrapy/2.11.2 (+https://scrapy.org)",
    "curl": "curl/8.5.0",
    "Wget": "Wget/1.21.4",
    "Go-http-client": "Go-http-client/2.0",
    "Java": "Java/1.8.0_402",
    "Apache-HttpClient": "Apache-HttpClient/4.5.14 (Java/17.0.11)",
    "okhttp": "okhttp/4.12.0",
    "axios": "axios/1.7.2",
    "node-fetch": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "Node.js fetch": "node",
    "Guzzle": "GuzzleHttp/7",
    "libwww-perl": "libwww-perl/6.76",
    "Faraday": "Faraday v2.9.0",
    "Dart": "Dart/3.4 (dart:io)",
    "reqwest": "reqwest/0.12.4",
    "a bare Mozilla/5.0": "Mozilla/5.0",
    "no User-Agent": "",
    # Headless browsers, performance tests and uptime monitors.
    "HeadlessChrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "HeadlessChrome/126.0.6478.126 Safari/537.36",
    "PhantomJS": "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
                 "PhantomJS/2.1.1 Safari/538.1",
    "Lighthouse": "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "GTmetrix": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/104.0.5112.79 Safari/537.36 GTmetrix",
    "Pingdom": "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "UptimeRobot": "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "StatusCake": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/114.0.0.0 Safari/537.36 StatusCake",
    "Site24x7": "Site24x7",
    "Feedly": "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers; like "
              "FeedFetcher-Google)",
}

# Real User-Agent strings of people's browsers: none of the patterns above may match them.
HUMAN_BROWSERS = {
    "Chrome on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                         "like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Chrome on macOS": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                       "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Chrome on Android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
    "Chrome on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                        "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 "
                        "Mobile/15E148 Safari/604.1",
    "Firefox on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 "
                          "Firefox/127.0",
    "Firefox on Linux": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 "
                        "Firefox/127.0",
    "Firefox on Android": "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
    "Safari on macOS": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Safari on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) "
                        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 "
                        "Safari/604.1",
    "Safari on iPad": "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                      "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Edge on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                       "like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Edge on Android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
                       "Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 EdgA/126.0.0.0",
    "Samsung Internet": "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 "
                        "(KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile "
                        "Safari/537.36",
    "Opera": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36 OPR/112.0.0.0",
    "Opera on Android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
                        "Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 OPR/83.0.0.0",
    "Yandex Browser": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                      "like Gecko) Chrome/124.0.0.0 YaBrowser/24.6.0.0 Safari/537.36",
    "DuckDuckGo on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
                            "Mobile/15E148 DuckDuckGo/7 Safari/605.1.15",
    "LinkedIn's in-app browser": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                                 "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
                                 "[LinkedInApp]/9.29.7560",
    "Facebook's in-app browser": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                                 "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
                                 "[FBAN/FBIOS;FBAV/470.0.0.38.108;FBDV/iPhone15,2;FBMD/iPhone;"
                                 "FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
}

# What loads an email's pixel without a person reading it.
PIXEL_MACHINES = {
    "Apple Mail Privacy Protection": "Mozilla/5.0",
    "Gmail's image proxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via "
                           "ggpht.com GoogleImageProxy)",
    "Yahoo Mail's proxy": "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749"
                          ".html",
    "Barracuda": "Mozilla/5.0 (compatible; Barracuda Sentinel link protection)",
    "Proofpoint": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/124.0.0.0 Safari/537.36 Proofpoint-URLDefense",
    "Mimecast": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Mimecast-Targeted-Threat-Protection",
    "Cisco IronPort": "Mozilla/5.0 (compatible; Cisco IronPort Email Security Appliance)",
    "Trend Micro": "Mozilla/5.0 (X11; Linux x86_64) Trend Micro Email Security",
    "Sophos": "Mozilla/5.0 (Windows NT 10.0) Sophos Email Time-of-Click",
    "python-requests": "python-requests/2.32.3",
}

# Mail clients that load the pixel when their reader shows the message.
PIXEL_READERS = {
    "Outlook for Windows": "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; "
                           "Trident/7.0; .NET4.0C; .NET4.0E; Microsoft Outlook 16.0.17726; "
                           "ms-office; MSOffice 16)",
    "Apple Mail without privacy protection": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
                                             "AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mail on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                      "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Thunderbird": "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 "
                   "Thunderbird/115.12.0",
    "webmail in Chrome": HUMAN_BROWSERS["Chrome on Windows"],
}


@pytest.fixture
def offer():
    """The demo's Kasia 120 offer: +10 points a view."""
    return OfferPage.objects.get(slug="passive-house-kasia-120")


@pytest.mark.parametrize("user_agent", BOT_AGENTS.values(), ids=BOT_AGENTS.keys())
def test_a_bot_on_a_scored_page_records_nothing_and_earns_nothing(client, offer, user_agent):
    response = client.get(offer.url, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 200
    assert "leadscore_vid" not in response.cookies
    assert not Event.objects.exists() and not Visitor.objects.exists()
    assert not Score.objects.exists() and not ScoreEntry.objects.exists()


@pytest.mark.parametrize("user_agent", HUMAN_BROWSERS.values(), ids=HUMAN_BROWSERS.keys())
def test_a_persons_browser_is_tracked_and_earns_the_pages_points(client, offer, user_agent):
    assert client.get(offer.url, HTTP_USER_AGENT=user_agent).status_code == 200
    visitor = Visitor.objects.get()
    assert Event.objects.get(type="page_view").visitor == visitor
    assert Score.objects.get(visitor=visitor, dimension="global").value == 10


@pytest.fixture
def ola(db):
    return Contact.objects.create(email="ola@example.com", first_name="Ola")


@pytest.fixture
def pixel(mail_server, ola, time_machine):
    """The open pixel of a message delivered to Ola at SENT_AT (the clock stays there);
    opening it earns 5 points."""
    time_machine.move_to(SENT_AT, tick=False)
    ScoringRule.objects.create(name="Opened an email", trigger="email_open", points=5)
    send_one(ola)
    html = html_part(mail_server.inbox.messages[0])
    return path_of(re.search(r'src="([^"]*/leadscore/m/o/[^"]+)"', html).group(1))


def load(pixel, user_agent):
    response = Client(HTTP_USER_AGENT=user_agent).get(pixel)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert not response.cookies  # an open identifies no browser


def opens(kind="email_open"):
    return Event.objects.filter(type=kind)


@pytest.mark.parametrize("user_agent", PIXEL_MACHINES.values(), ids=PIXEL_MACHINES.keys())
def test_a_machine_loading_the_pixel_is_a_machine_open_that_earns_nothing(
        pixel, ola, time_machine, user_agent):
    time_machine.move_to(LATER, tick=False)  # the User-Agent alone tells
    load(pixel, user_agent)
    assert not opens().exists()
    machine_open = opens("email_machine_open").get()
    assert machine_open.contact == ola and machine_open.name == "spring-news"
    assert global_score(ola) == 0


@pytest.mark.parametrize("user_agent", PIXEL_READERS.values(), ids=PIXEL_READERS.keys())
def test_a_mail_client_showing_the_message_is_an_open_that_earns_its_points(
        pixel, ola, time_machine, user_agent):
    time_machine.move_to(LATER, tick=False)
    load(pixel, user_agent)
    assert opens().get().contact == ola and not opens("email_machine_open").exists()
    assert global_score(ola) == 5 and not Visitor.objects.exists()


def test_any_load_within_the_scanner_seconds_of_delivery_is_a_machines(pixel, ola,
                                                                       time_machine):
    """Gateways and Microsoft's consumer mail fetch a message's images as it arrives, with
    browsers' User-Agents; a person is rarely that fast, and opens again later."""
    time_machine.move_to(SENT_AT + datetime.timedelta(seconds=3), tick=False)
    load(pixel, HUMAN_BROWSERS["Chrome on Windows"])
    assert opens("email_machine_open").count() == 1 and not opens().exists()
    time_machine.move_to(LATER, tick=False)
    load(pixel, HUMAN_BROWSERS["Chrome on Windows"])
    assert opens().count() == 1 and global_score(ola) == 5


def test_mail_scanner_patterns_of_the_settings_apply_to_the_pixel(
        pixel, time_machine, settings_leadscore):
    settings_leadscore(MAIL_SCANNER_USER_AGENTS=[r"Firefox/127\.0$"])
    time_machine.move_to(LATER, tick=False)
    load(pixel, HUMAN_BROWSERS["Firefox on Windows"])
    assert opens("email_machine_open").count() == 1 and not opens().exists()


def test_machine_opens_count_in_no_statistic_segment_or_activity(pixel, ola, time_machine,
                                                                  admin_client):
    opened = segment("Opened the spring news",
                     ("email", {"event_type": "email_open", "name": "spring-news"}))
    active = segment("Active this week", ("activity", {"activity": "active", "days": 7}))
    statistics = reverse("wagtailsnippets_wagtail_leadscore_email:statistics",
                         args=[Email.objects.get(slug="spring-news").pk])
    time_machine.move_to(LATER, tick=False)
    for user_agent in (PIXEL_MACHINES["Apple Mail Privacy Protection"],
                       PIXEL_MACHINES["Gmail's image proxy"]):
        load(pixel, user_agent)
    assert opens("email_machine_open").count() == 2
    assert members(opened) == members(active) == set()
    assert 'data-stat="opened">0<' in admin_client.get(statistics).content.decode()

    load(pixel, PIXEL_READERS["Outlook for Windows"])
    assert members(opened) == members(active) == {ola.pk}
    assert 'data-stat="opened">1<' in admin_client.get(statistics).content.decode()
