/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Why a VM stopped; the first reason reported wins. */
enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_CRASH,
	VM_STOP_HOST,
	VM_STOP_ERROR,
	VM_STOP_PANIC,
};
