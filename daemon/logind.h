/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* systemd-logind on the system bus. */
#define LOGIND_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER "org.freedesktop.login1.Manager"
#define LOGIND_USER "org.freedesktop.login1.User"
#define LOGIND_CALL_TIMEOUT_MS 5000
