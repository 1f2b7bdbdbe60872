"""The table of .pyc magic numbers, Python 1.5 to 3.14, and lookups over it.

A .pyc starts with a 4-byte magic: a 16-bit number, little-endian, then ``b"\\r\\n"``. The
number names the bytecode format, which is tied to a Python minor version. The table below
is data, transcribed from CPython's own list ("Known values" in
``Include/internal/pycore_magic_number.h``, formerly in
``Lib/importlib/_bootstrap_external.py`` and ``Python/import.c``). One row per number.

Things the table records that are easy to get wrong:

- 3.0 and 3.1 always wrote ``MAGIC + 1`` (a leftover of the 2.x ``-U`` switch), so their
  numbers are odd: 3131 and 3151. Python 1.6 to 2.7 wrote ``MAGIC + 1`` only under ``-U``;
  those numbers are not in the table.
- 2.3 development moved from 62011 to 62021 and back to 62011, which 2.3 final uses.
- 3.5 has two release magics: 3350 (3.5.0, 3.5.1) and 3351 (3.5.2 and later).
- The header grew from 8 to 12 bytes at 3210 (3.3a1, source size added) and to 16 bytes at
  3392 (3.7a4, PEP 552 flags), so early 3.3 and 3.7 pre-releases have the older layout.

Importing this module builds nothing: rows are a tuple literal (a constant in the compiled
module) and :class:`MagicEntry` objects are made on first use. Importing ``dataclasses``
alone costs tens of milliseconds, which is why the entry class is a plain slotted one
(:mod:`bytecast._frozen`).
"""

from __future__ import annotations

from bytecast._frozen import Frozen, init
from bytecast.errors import PycFormatError, UsageError
from bytecast.header import header_size_for  # the rule's home; re-exported here

__all__ = [
    "MagicEntry",
    "entries",
    "for_version",
    "from_bytes",
    "header_size_for",
    "last_possible_micro",
    "lookup",
    "parse_query",
    "python_for_magic",
]

_DASH = "\u2013"

# (number, versions, python, release, notes). ``versions`` names the pre-release that first
# shipped the number (CPython's tag); a release row ends with the minor it stayed in. Rows
# are in the order CPython assigned them.
_ROWS: tuple[tuple[int, str, str, bool, str], ...] = (
    (20121, "1.5", "1.5", True, "final release magic of 1.5 (1.5, 1.5.1, 1.5.2)"),
    (50428, "1.6", "1.6", True, "final release magic of 1.6"),
    (50823, "2.0", "2.0", True, "final release magic of 2.0 (2.0, 2.0.1)"),
    (60202, "2.1", "2.1", True, "final release magic of 2.1 (2.1, 2.1.1, 2.1.2)"),
    (60717, "2.2", "2.2", True, "final release magic of 2.2"),
    (62011, "2.3a0–2.3", "2.3", True,
     "final release magic of 2.3; reused: 2.3a0 went to 62021 and back to 62011"),
    (62021, "2.3a0", "2.3", False, "pre-release; abandoned, 2.3 went back to 62011"),
    (62041, "2.4a0", "2.4", False, "pre-release"),
    (62051, "2.4a3", "2.4", False, "pre-release"),
    (62061, "2.4b1–2.4", "2.4", True, "final release magic of 2.4"),
    (62071, "2.5a0", "2.5", False, "pre-release"),
    (62081, "2.5a0", "2.5", False, "pre-release (ast-branch)"),
    (62091, "2.5a0", "2.5", False, "pre-release (with statement)"),
    (62092, "2.5a0", "2.5", False, "pre-release (changed WITH_CLEANUP opcode)"),
    (62101, "2.5b3", "2.5", False, "pre-release (fix wrong code: for x, in ...)"),
    (62111, "2.5b3", "2.5", False, "pre-release (fix wrong code: x += yield)"),
    (62121, "2.5c1", "2.5", False, "pre-release (fix wrong lnotab with for loops)"),
    (62131, "2.5c2–2.5", "2.5", True,
     "final release magic of 2.5 (fix wrong code: for x, in ... in listcomp/genexp)"),
    (62151, "2.6a0", "2.6", False, "pre-release (peephole optimizations, STORE_MAP opcode)"),
    (62161, "2.6a1–2.6", "2.6", True,
     "final release magic of 2.6 (WITH_CLEANUP optimization)"),
    (62171, "2.7a0", "2.7", False, "pre-release (optimize list comprehensions, LIST_APPEND)"),
    (62181, "2.7a0", "2.7", False, "pre-release (POP_JUMP_IF_FALSE, POP_JUMP_IF_TRUE)"),
    (62191, "2.7a0", "2.7", False, "pre-release (introduce SETUP_WITH)"),
    (62201, "2.7a0", "2.7", False, "pre-release (introduce BUILD_SET)"),
    (62211, "2.7a0–2.7", "2.7", True,
     "final release magic of 2.7 (introduce MAP_ADD and SET_ADD)"),
    (3000, "3.0 (py3k development)", "3.0", False, "pre-release (Python 3000 branch)"),
    (3010, "3.0 (py3k development)", "3.0", False, "pre-release (removed UNARY_CONVERT)"),
    (3020, "3.0 (py3k development)", "3.0", False, "pre-release (added BUILD_SET)"),
    (3030, "3.0 (py3k development)", "3.0", False, "pre-release (keyword-only parameters)"),
    (3040, "3.0 (py3k development)", "3.0", False, "pre-release (signature annotations)"),
    (3050, "3.0 (py3k development)", "3.0", False, "pre-release (print becomes a function)"),
    (3060, "3.0 (py3k development)", "3.0", False, "pre-release (PEP 3115 metaclass syntax)"),
    (3061, "3.0 (py3k development)", "3.0", False,
     "pre-release (string literals become unicode; from here 3.x wrote MAGIC + 1)"),
    (3071, "3.0 (py3k development)", "3.0", False, "pre-release (PEP 3109 raise changes)"),
    (3081, "3.0 (py3k development)", "3.0", False,
     "pre-release (PEP 3137 make __file__ and __name__ unicode)"),
    (3091, "3.0 (py3k development)", "3.0", False, "pre-release (kill str8 interning)"),
    (3101, "3.0 (py3k development)", "3.0", False, "pre-release (merge from 2.6a0, see 62151)"),
    (3103, "3.0 (py3k development)", "3.0", False, "pre-release (__file__ points to source)"),
    (3111, "3.0a4", "3.0", False, "pre-release (WITH_CLEANUP optimization)"),
    (3131, "3.0b1–3.0", "3.0", True,
     "final release magic of 3.0 (lexical exception stacking, POP_EXCEPT); MAGIC 3130 + 1"),
    (3141, "3.1a1", "3.1", False, "pre-release (optimize list, set and dict comprehensions)"),
    (3151, "3.1a1–3.1", "3.1", True,
     "final release magic of 3.1 (POP_JUMP_IF_FALSE, POP_JUMP_IF_TRUE); MAGIC 3150 + 1"),
    (3160, "3.2a1", "3.2", False, "pre-release (add SETUP_WITH); tag cpython-32"),
    (3170, "3.2a2", "3.2", False, "pre-release (add DUP_TOP_TWO, remove DUP_TOPX, ROT_FOUR)"),
    (3180, "3.2a3–3.2", "3.2", True, "final release magic of 3.2 (add DELETE_DEREF)"),
    (3190, "3.3a1", "3.3", False, "pre-release (__class__ super closure changed)"),
    (3200, "3.3a1", "3.3", False, "pre-release (PEP 3155 __qualname__ added)"),
    (3210, "3.3a1", "3.3", False,
     "pre-release (source size added to the header: the 12-byte layout starts here)"),
    (3220, "3.3a2", "3.3", False, "pre-release (changed PEP 380 implementation)"),
    (3230, "3.3a4–3.3", "3.3", True,
     "final release magic of 3.3 (revert changes to implicit __class__ closure)"),
    (3250, "3.4a1", "3.4", False, "pre-release (positional defaults before keyword-only)"),
    (3260, "3.4a1", "3.4", False, "pre-release (add LOAD_CLASSDEREF)"),
    (3270, "3.4a1", "3.4", False, "pre-release (various tweaks to the __class__ closure)"),
    (3280, "3.4a1", "3.4", False, "pre-release (remove implicit class argument)"),
    (3290, "3.4a4", "3.4", False, "pre-release (changes to __qualname__ computation)"),
    (3300, "3.4a4", "3.4", False, "pre-release (more changes to __qualname__ computation)"),
    (3310, "3.4rc2–3.4", "3.4", True,
     "final release magic of 3.4 (alter __qualname__ computation)"),
    (3320, "3.5a1", "3.5", False, "pre-release (PEP 465 matrix multiplication operator)"),
    (3330, "3.5b1", "3.5", False, "pre-release (PEP 448 additional unpacking generalizations)"),
    (3340, "3.5b2", "3.5", False, "pre-release (fix dictionary display evaluation order)"),
    (3350, "3.5b3–3.5.1", "3.5", True,
     "release magic of 3.5.0 and 3.5.1 (add GET_YIELD_FROM_ITER); 3.5.2 moved to 3351"),
    (3351, "3.5.2–3.5", "3.5", True,
     "final release magic of 3.5, from 3.5.2 (fix BUILD_MAP_UNPACK_WITH_CALL)"),
    (3360, "3.6a0", "3.6", False, "pre-release (add FORMAT_VALUE opcode)"),
    (3361, "3.6a1", "3.6", False, "pre-release (co_lnotab line delta becomes signed)"),
    (3370, "3.6a2", "3.6", False, "pre-release (16-bit wordcode)"),
    (3371, "3.6a2", "3.6", False, "pre-release (add BUILD_CONST_KEY_MAP)"),
    (3372, "3.6a2", "3.6", False, "pre-release (MAKE_FUNCTION simplification)"),
    (3373, "3.6b1", "3.6", False, "pre-release (add BUILD_STRING)"),
    (3375, "3.6b1", "3.6", False, "pre-release (add SETUP_ANNOTATIONS, STORE_ANNOTATION)"),
    (3376, "3.6b1", "3.6", False, "pre-release (simplify CALL_FUNCTIONs)"),
    (3377, "3.6b1", "3.6", False, "pre-release (set __class__ cell from type.__new__)"),
    (3378, "3.6b2", "3.6", False, "pre-release (add BUILD_TUPLE_UNPACK_WITH_CALL)"),
    (3379, "3.6rc1–3.6", "3.6", True,
     "final release magic of 3.6 (more thorough __class__ validation)"),
    (3390, "3.7a1", "3.7", False, "pre-release (add LOAD_METHOD, CALL_METHOD); 12-byte header"),
    (3391, "3.7a2", "3.7", False, "pre-release (update GET_AITER); 12-byte header"),
    (3392, "3.7a4", "3.7", False,
     "pre-release (PEP 552 deterministic pycs: the 16-byte layout starts here)"),
    (3393, "3.7b1", "3.7", False, "pre-release (remove STORE_ANNOTATION)"),
    (3394, "3.7b5–3.7", "3.7", True,
     "final release magic of 3.7 (docstring restored as the first statement)"),
    (3400, "3.8a1", "3.8", False, "pre-release (frame block handling moved to the compiler)"),
    (3401, "3.8a1", "3.8", False, "pre-release (add END_ASYNC_FOR)"),
    (3410, "3.8a1", "3.8", False, "pre-release (PEP 570 positional-only parameters)"),
    (3411, "3.8b2", "3.8", False, "pre-release (key: value order in dict comprehensions)"),
    (3412, "3.8b2", "3.8", False, "pre-release (swap positional and positional-only args)"),
    (3413, "3.8b4–3.8", "3.8", True,
     "final release magic of 3.8 (fix break and continue in finally)"),
    (3420, "3.9a0", "3.9", False, "pre-release (add LOAD_ASSERTION_ERROR)"),
    (3421, "3.9a0", "3.9", False, "pre-release (simplified bytecode for with blocks)"),
    (3422, "3.9a0", "3.9", False, "pre-release (remove BEGIN_FINALLY and friends)"),
    (3423, "3.9a2", "3.9", False, "pre-release (add IS_OP, CONTAINS_OP, JUMP_IF_NOT_EXC_MATCH)"),
    (3424, "3.9a2", "3.9", False, "pre-release (simplify *value unpacking)"),
    (3425, "3.9a2–3.9", "3.9", True,
     "final release magic of 3.9 (simplify **value unpacking)"),
    (3430, "3.10a1", "3.10", False, "pre-release (annotations future by default)"),
    (3431, "3.10a1", "3.10", False, "pre-release (PEP 626 line number table)"),
    (3432, "3.10a2", "3.10", False, "pre-release (MAKE_FUNCTION annotations as a tuple)"),
    (3433, "3.10a2", "3.10", False, "pre-release (RERAISE restores f_lasti)"),
    (3434, "3.10a6", "3.10", False, "pre-release (PEP 634 structural pattern matching)"),
    (3435, "3.10a7", "3.10", False, "pre-release (instruction offsets, not byte offsets)"),
    (3436, "3.10b1", "3.10", False, "pre-release (add GEN_START)"),
    (3437, "3.10b1", "3.10", False, "pre-release (undo annotations future by default)"),
    (3438, "3.10b1", "3.10", False, "pre-release (safer line number table handling)"),
    (3439, "3.10b1–3.10", "3.10", True, "final release magic of 3.10 (add ROT_N)"),
    (3450, "3.11a1", "3.11", False, "pre-release (zero-cost exception handling)"),
    (3451, "3.11a1", "3.11", False, "pre-release (add CALL_METHOD_KW)"),
    (3452, "3.11a1", "3.11", False, "pre-release (drop nlocals from marshalled code)"),
    (3453, "3.11a1", "3.11", False, "pre-release (add co_fastlocalnames, co_fastlocalkinds)"),
    (3454, "3.11a1", "3.11", False, "pre-release (cell offsets relative to locals)"),
    (3455, "3.11a1", "3.11", False, "pre-release (add MAKE_CELL)"),
    (3456, "3.11a1", "3.11", False, "pre-release (interleave cell args)"),
    (3457, "3.11a1", "3.11", False, "pre-release (localsplus becomes a bytes object)"),
    (3458, "3.11a1", "3.11", False, "pre-release (imports no longer use LOAD_METHOD)"),
    (3459, "3.11a1", "3.11", False, "pre-release (PEP 657 end lines and column offsets)"),
    (3460, "3.11a1", "3.11", False, "pre-release (add co_qualname)"),
    (3461, "3.11a1", "3.11", False, "pre-release (JUMP_ABSOLUTE must jump backwards)"),
    (3462, "3.11a2", "3.11", False, "pre-release (remove COPY_DICT_WITHOUT_KEYS, add COPY)"),
    (3463, "3.11a3", "3.11", False, "pre-release (JUMP_IF_NOT_EXC_MATCH keeps the exception)"),
    (3464, "3.11a3", "3.11", False, "pre-release (merge BINARY_*/INPLACE_* into BINARY_OP)"),
    (3465, "3.11a3", "3.11", False, "pre-release (add COPY_FREE_VARS)"),
    (3466, "3.11a4", "3.11", False, "pre-release (PEP 654 except*)"),
    (3467, "3.11a4", "3.11", False, "pre-release (change CALL_xxx opcodes)"),
    (3468, "3.11a4", "3.11", False, "pre-release (add SEND)"),
    (3469, "3.11a4", "3.11", False, "pre-release (remove type, traceback from exc_info)"),
    (3470, "3.11a4", "3.11", False, "pre-release (PREP_RERAISE_STAR no longer pushes lasti)"),
    (3471, "3.11a4", "3.11", False, "pre-release (remove POP_EXCEPT_AND_RERAISE)"),
    (3472, "3.11a4", "3.11", False, "pre-release (replace GEN_START with POP_TOP)"),
    (3473, "3.11a4", "3.11", False, "pre-release (add POP_JUMP_IF_NOT_NONE, POP_JUMP_IF_NONE)"),
    (3474, "3.11a4", "3.11", False, "pre-release (add RESUME)"),
    (3475, "3.11a5", "3.11", False, "pre-release (add RETURN_GENERATOR)"),
    (3476, "3.11a5", "3.11", False, "pre-release (add ASYNC_GEN_WRAP)"),
    (3477, "3.11a5", "3.11", False, "pre-release (COPY and SWAP replace DUP_TOP and ROT_*)"),
    (3478, "3.11a5", "3.11", False, "pre-release (new CALL opcodes)"),
    (3479, "3.11a5", "3.11", False, "pre-release (add PUSH_NULL)"),
    (3480, "3.11a5", "3.11", False, "pre-release (new CALL opcodes, second iteration)"),
    (3481, "3.11a5", "3.11", False, "pre-release (inline cache for BINARY_OP)"),
    (3482, "3.11a5", "3.11", False, "pre-release (inline caches: UNPACK_SEQUENCE, LOAD_GLOBAL)"),
    (3483, "3.11a5", "3.11", False, "pre-release (inline caches: COMPARE_OP, BINARY_SUBSCR)"),
    (3484, "3.11a5", "3.11", False, "pre-release (inline caches: LOAD_ATTR, LOAD_METHOD, ...)"),
    (3485, "3.11a5", "3.11", False, "pre-release (oparg for GET_AWAITABLE)"),
    (3486, "3.11a6", "3.11", False, "pre-release (inline caches: PRECALL, CALL)"),
    (3487, "3.11a6", "3.11", False, "pre-release (remove the adaptive oparg counter)"),
    (3488, "3.11a6", "3.11", False, "pre-release (LOAD_GLOBAL can push an extra NULL)"),
    (3489, "3.11a6", "3.11", False, "pre-release (add JUMP_BACKWARD, remove JUMP_ABSOLUTE)"),
    (3490, "3.11a6", "3.11", False, "pre-release (add CHECK_EXC_MATCH)"),
    (3491, "3.11a6", "3.11", False, "pre-release (add CHECK_EG_MATCH)"),
    (3492, "3.11a7", "3.11", False, "pre-release (relative POP_JUMP_IF_* jumps)"),
    (3493, "3.11a7", "3.11", False, "pre-release (relative JUMP_IF_*_OR_POP jumps)"),
    (3494, "3.11a7", "3.11", False, "pre-release (new location info table)"),
    (3495, "3.11b4–3.11", "3.11", True,
     "final release magic of 3.11 (module RESUME at line 0, PEP 626)"),
    (3500, "3.12a1", "3.12", False, "pre-release (remove PRECALL)"),
    (3501, "3.12a1", "3.12", False, "pre-release (YIELD_VALUE oparg is the stack depth)"),
    (3502, "3.12a1", "3.12", False, "pre-release (LOAD_FAST_CHECK)"),
    (3503, "3.12a1", "3.12", False, "pre-release (shrink LOAD_METHOD cache)"),
    (3504, "3.12a1", "3.12", False, "pre-release (LOAD_METHOD merged into LOAD_ATTR)"),
    (3505, "3.12a1", "3.12", False, "pre-release (specialization for FOR_ITER)"),
    (3506, "3.12a1", "3.12", False, "pre-release (add BINARY_SLICE, STORE_SLICE)"),
    (3507, "3.12a1", "3.12", False, "pre-release (module RESUME at line 0)"),
    (3508, "3.12a1", "3.12", False, "pre-release (add CLEANUP_THROW)"),
    (3509, "3.12a1", "3.12", False, "pre-release (conditional jumps only jump forward)"),
    (3510, "3.12a2", "3.12", False, "pre-release (FOR_ITER leaves the iterator on the stack)"),
    (3511, "3.12a2", "3.12", False, "pre-release (add STOPITERATION_ERROR)"),
    (3512, "3.12a2", "3.12", False, "pre-release (remove unused consts from code objects)"),
    (3513, "3.12a4", "3.12", False, "pre-release (add CALL_INTRINSIC_1)"),
    (3514, "3.12a4", "3.12", False, "pre-release (remove ASYNC_GEN_WRAP, LIST_TO_TUPLE, ...)"),
    (3515, "3.12a5", "3.12", False, "pre-release (jump mask in COMPARE_OP oparg)"),
    (3516, "3.12a5", "3.12", False, "pre-release (add COMPARE_AND_BRANCH)"),
    (3517, "3.12a5", "3.12", False, "pre-release (YIELD_VALUE oparg is the block depth)"),
    (3518, "3.12a6", "3.12", False, "pre-release (add RETURN_CONST)"),
    (3519, "3.12a6", "3.12", False, "pre-release (modify SEND)"),
    (3520, "3.12a6", "3.12", False, "pre-release (remove PREP_RERAISE_STAR, add CALL_INTRINSIC_2)"),
    (3521, "3.12a7", "3.12", False, "pre-release (shrink LOAD_GLOBAL caches)"),
    (3522, "3.12a7", "3.12", False, "pre-release (remove JUMP_IF_*_OR_POP)"),
    (3523, "3.12a7", "3.12", False, "pre-release (COMPARE_AND_BRANCH back to COMPARE_OP)"),
    (3524, "3.12a7", "3.12", False, "pre-release (shrink BINARY_SUBSCR caches)"),
    (3525, "3.12b1", "3.12", False, "pre-release (shrink CALL caches)"),
    (3526, "3.12b1", "3.12", False, "pre-release (instrumentation support)"),
    (3527, "3.12b1", "3.12", False, "pre-release (add LOAD_SUPER_ATTR)"),
    (3528, "3.12b1", "3.12", False, "pre-release (LOAD_SUPER_ATTR_METHOD specialization)"),
    (3529, "3.12b1", "3.12", False, "pre-release (inline list/dict/set comprehensions)"),
    (3530, "3.12b1", "3.12", False, "pre-release (shrink LOAD_SUPER_ATTR caches)"),
    (3531, "3.12b1–3.12", "3.12", True,
     "final release magic of 3.12 (PEP 695 changes)"),
    (3550, "3.13a1", "3.13", False, "pre-release (plugin optimizer support)"),
    (3551, "3.13a1", "3.13", False, "pre-release (compact superinstructions)"),
    (3552, "3.13a1", "3.13", False, "pre-release (remove LOAD_FAST__LOAD_CONST and mirror)"),
    (3553, "3.13a1", "3.13", False, "pre-release (add SET_FUNCTION_ATTRIBUTE)"),
    (3554, "3.13a1", "3.13", False, "pre-release (more efficient f-string bytecode)"),
    (3555, "3.13a1", "3.13", False, "pre-release (specialized opcode metadata generated)"),
    (3556, "3.13a1", "3.13", False, "pre-release (LOAD_CLOSURE becomes a pseudo-op)"),
    (3557, "3.13a1", "3.13", False, "pre-release (explicit bool conversion in jumps)"),
    (3558, "3.13a1", "3.13", False, "pre-release (reorder stack items for CALL)"),
    (3559, "3.13a1", "3.13", False, "pre-release (opcode IDs generated from bytecodes.c)"),
    (3560, "3.13a1", "3.13", False, "pre-release (add RESUME_CHECK)"),
    (3561, "3.13a1", "3.13", False, "pre-release (cache entry on branch instructions)"),
    (3562, "3.13a1", "3.13", False, "pre-release (internal opcode IDs in a separate range)"),
    (3563, "3.13a1", "3.13", False, "pre-release (add CALL_KW, remove KW_NAMES)"),
    (3564, "3.13a1", "3.13", False, "pre-release (YIELD_VALUE and RESUME oparg changes)"),
    (3565, "3.13a1", "3.13", False, "pre-release (YIELD_VALUE oparg marks yield-from)"),
    (3566, "3.13a1", "3.13", False, "pre-release (JUMP_NO_INTERRUPT for non-loop cases)"),
    (3567, "3.13a1", "3.13", False, "pre-release (line number propagation in the compiler)"),
    (3568, "3.13a1", "3.13", False, "pre-release (change semantics of END_FOR)"),
    (3569, "3.13a5", "3.13", False, "pre-release (specialize CONTAINS_OP)"),
    (3570, "3.13a6", "3.13", False, "pre-release (add __firstlineno__ class attribute)"),
    (3571, "3.13b1–3.13", "3.13", True,
     "final release magic of 3.13 (fix private names in generic classes)"),
    (3600, "3.14a1", "3.14", False, "pre-release (add LOAD_COMMON_CONSTANT)"),
    (3601, "3.14a1", "3.14", False, "pre-release (fix private names in generic classes)"),
    (3602, "3.14a1", "3.14", False, "pre-release (add LOAD_SPECIAL)"),
    (3603, "3.14a1", "3.14", False, "pre-release (remove BUILD_CONST_KEY_MAP)"),
    (3604, "3.14a1", "3.14", False, "pre-release (no duplicated test at end of while)"),
    (3605, "3.14a1", "3.14", False, "pre-release (ENTER_EXECUTOR moved to opcode 255)"),
    (3606, "3.14a1", "3.14", False, "pre-release (specialize CALL_KW)"),
    (3607, "3.14a1", "3.14", False, "pre-release (pseudo instructions JUMP_IF_TRUE/FALSE)"),
    (3608, "3.14a1", "3.14", False, "pre-release (support for slices)"),
    (3609, "3.14a2", "3.14", False, "pre-release (add LOAD_SMALL_INT, remove RETURN_CONST)"),
    (3610, "3.14a4", "3.14", False, "pre-release (VALUE_WITH_FAKE_GLOBALS annotation format)"),
    (3611, "3.14a4", "3.14", False, "pre-release (add NOT_TAKEN)"),
    (3612, "3.14a4", "3.14", False, "pre-release (add POP_ITER)"),
    (3613, "3.14a4", "3.14", False, "pre-release (add LOAD_CONST_MORTAL)"),
    (3614, "3.14a5", "3.14", False, "pre-release (add BINARY_OP_EXTEND)"),
    (3615, "3.14a5", "3.14", False, "pre-release (CALL_FUNCTION_EX always takes kwargs)"),
    (3616, "3.14a5", "3.14", False, "pre-release (BINARY_SUBSCR family becomes BINARY_OP)"),
    (3617, "3.14a6", "3.14", False, "pre-release (branch monitoring for async for)"),
    (3618, "3.14a6", "3.14", False, "pre-release (oparg for END_ASYNC_FOR)"),
    (3619, "3.14a6", "3.14", False, "pre-release (RESUME renumbered from 149 to 128)"),
    (3620, "3.14a6", "3.14", False, "pre-release (all/any/tuple over a genexp optimized)"),
    (3621, "3.14a7", "3.14", False, "pre-release (LOAD_FAST_BORROW)"),
    (3622, "3.14a7", "3.14", False, "pre-release (annotations stored under other class keys)"),
    (3623, "3.14a7", "3.14", False, "pre-release (add BUILD_INTERPOLATION, BUILD_TEMPLATE)"),
    (3624, "3.14b1", "3.14", False, "pre-release (LOAD_FAST kept when killed by DELETE_FAST)"),
    (3625, "3.14b3", "3.14", False, "pre-release (LOAD_FAST optimization fix)"),
    (3626, "3.14rc2", "3.14", False, "pre-release (missing exception handlers fix)"),
    (3627, "3.14rc3–3.14", "3.14", True,
     "final release magic of 3.14 (fix some module-level annotations)"),
)

# Minors whose release magic changed in a bugfix release: (first micro, number), newest first.
_MICRO_SPLITS: dict[str, tuple[tuple[int, int], ...]] = {"3.5": ((2, 3351), (0, 3350))}

_TRAILER = b"\r\n"

# Which micro versions can exist. The table knows every release out by _AS_OF (the last micro
# of each minor then) and the scheduled end of life of the branches still maintained then
# (PEP 602: five years after X.Y.0). An ended branch gets no more releases; a maintained one
# gets at most two a month until its end of life (CPython's fastest pace: a bugfix release
# and an emergency one the same month, as 3.9.3/3.9.4 and 3.13.4/3.13.5). A micro past that is
# impossible, and a query for it is refused; one within it is answered (a branch's magic does
# not change after its first release candidate; 3.5.2 is the one exception, in the table).
# The answer depends on the table only, never on today's date: same query, same answer.
_AS_OF = (2025, 10)
_LAST_MICRO: dict[str, int] = {
    "1.5": 2, "1.6": 1, "2.0": 1, "2.1": 3, "2.2": 3, "2.3": 7, "2.4": 6, "2.5": 6, "2.6": 9, "2.7": 18,
    "3.0": 1, "3.1": 5, "3.2": 6, "3.3": 7, "3.4": 10, "3.5": 10, "3.6": 15, "3.7": 17, "3.8": 20, "3.9": 25,
    "3.10": 19, "3.11": 14, "3.12": 12, "3.13": 9, "3.14": 0,
}
_END_OF_LIFE: dict[str, tuple[int, int]] = {
    "3.10": (2026, 10), "3.11": (2027, 10), "3.12": (2028, 10), "3.13": (2029, 10), "3.14": (2030, 10),
}


class MagicEntry(Frozen):
    """One magic number: who used it and what header layout it implies. Immutable."""

    __slots__ = ("number", "versions", "python", "header_size", "release", "notes")

    number: int
    """The 16-bit number, e.g. 3495 (the file holds it little-endian, then ``b"\\r\\n"``)."""
    versions: str
    """The releases that wrote it, e.g. ``"3.11b4–3.11"`` (first pre-release to last release)."""
    python: str
    """The minor version it belongs to, e.g. ``"3.11"`` or ``"1.5"``."""
    header_size: int
    """Bytes of header before the marshalled code: 8 (before 3.3), 12 (3.3–3.6) or 16 (3.7+)."""
    release: bool
    """True when a final release of :attr:`python` writes this number."""
    notes: str
    """What changed with this number, and anything surprising about it."""

    def __init__(self, number: int, versions: str, python: str, header_size: int, release: bool,
                 notes: str) -> None:
        init(self, "number", number)
        init(self, "versions", versions)
        init(self, "python", python)
        init(self, "header_size", header_size)
        init(self, "release", release)
        init(self, "notes", notes)

    @property
    def magic_bytes(self) -> bytes:
        """The 4 bytes a .pyc starts with."""
        return self.number.to_bytes(2, "little") + _TRAILER


# The magic numbers each minor version's development used, first to last.
_MAGIC_RANGES: tuple[tuple[int, int, tuple[int, int]], ...] = (
    (62011, 62021, (2, 3)),
    (62041, 62061, (2, 4)),
    (62071, 62131, (2, 5)),
    (62151, 62161, (2, 6)),
    (62171, 62211, (2, 7)),
    (3000, 3131, (3, 0)),
    (3141, 3151, (3, 1)),
    (3160, 3180, (3, 2)),
    (3190, 3230, (3, 3)),
    (3250, 3310, (3, 4)),
    (3320, 3351, (3, 5)),
    (3360, 3379, (3, 6)),
    (3390, 3399, (3, 7)),
    (3400, 3419, (3, 8)),
    (3420, 3429, (3, 9)),
    (3430, 3449, (3, 10)),
    (3450, 3499, (3, 11)),
    (3500, 3549, (3, 12)),
    (3550, 3599, (3, 13)),
    (3600, 3649, (3, 14)),
)


def python_for_magic(number: int) -> tuple[int, int] | None:
    """The ``(major, minor)`` of the Python that uses pyc magic ``number`` (by the ranges each
    minor's development used, pre-releases included), or None."""
    for low, high, version in _MAGIC_RANGES:
        if low <= number <= high:
            return version
    return None


_by_number: dict[int, MagicEntry] | None = None
_all: tuple[MagicEntry, ...] = ()


def _index() -> dict[int, MagicEntry]:
    global _by_number, _all
    if _by_number is None:
        built = tuple(
            MagicEntry(number, versions, python, header_size_for(number), release, notes)
            for number, versions, python, release, notes in _ROWS
        )
        _all = built
        _by_number = {entry.number: entry for entry in built}
    return _by_number


def entries() -> tuple[MagicEntry, ...]:
    """Every known magic number, oldest first (in the order CPython assigned them)."""
    _index()
    return _all


def lookup(number: int) -> MagicEntry | None:
    """The table row for ``number``, or None if bytecast does not know it."""
    return _index().get(number)


# Patterns stay strings: compiling them at import would cost more than the whole table.
_VERSION_RE = r"(\d+)\.(\d+)(?:\.(\d+))?"
_TAG_RE = r"\d+\.\d+(?:a|b|rc|c)\d+"
_HEX_MAGIC_RE = r"(?:0x)?([0-9a-fA-F]{4}0[dD]0[aA])"


def last_possible_micro(minor: str) -> int | None:
    """The highest micro version of ``minor`` ("3.11") that can exist by the table, or None
    for a minor the table does not know. Past its last release only for a branch that was
    still maintained when the table was made: two releases a month until its end of life."""
    last = _LAST_MICRO.get(minor)
    if last is None:
        return None
    end = _END_OF_LIFE.get(minor)
    if end is None:
        return last
    return last + 2 * ((end[0] - _AS_OF[0]) * 12 + end[1] - _AS_OF[1])


def _check_micro(name: str, micro: int, text: str) -> None:
    """Refuse a micro version the table proves impossible (see :func:`last_possible_micro`)."""
    highest = last_possible_micro(name)
    if highest is not None and micro > highest:
        last = _LAST_MICRO[name]
        end = _END_OF_LIFE.get(name)
        why = (f"the last {name} release is {name}.{last}" if end is None else
               f"{name}.{last} was the latest release in {_AS_OF[0]}-{_AS_OF[1]:02d}, and at two releases "
               f"a month {name} reaches at most {name}.{highest} by its end of life in {end[0]}-{end[1]:02d}")
        raise UsageError(f"Python {text} does not exist: {why}")


def _release_entry(minor: str, micro: int | None) -> MagicEntry | None:
    splits = _MICRO_SPLITS.get(minor)
    if splits is not None:
        wanted = splits[0][1] if micro is None else next(n for m, n in splits if micro >= m)
        return lookup(wanted)
    for entry in entries():
        if entry.python == minor and entry.release:
            return entry
    return None


def for_version(version: str) -> MagicEntry:
    """The magic a final release of ``version`` writes (``"3.11"`` or ``"3.11.7"``).

    A bare minor gives the magic of its latest releases (3.5 gives 3351; 3.5.1 gives 3350).
    Raises :class:`~bytecast.errors.UsageError` for text that is not a version, or a version
    with no release in the table.
    """
    import re

    match = re.fullmatch(_VERSION_RE, version.strip())
    if match is None:
        raise UsageError(f"{version!r} is not a Python version like 3.11 or 3.11.7")
    major, minor, micro = match.groups()
    name = f"{int(major)}.{int(minor)}"
    if micro is not None:
        _check_micro(name, int(micro), version.strip())
    entry = _release_entry(name, None if micro is None else int(micro))
    if entry is None:
        raise UsageError(f"no known magic number for Python {name}")
    return entry


def from_bytes(first4: bytes) -> int:
    """The magic number in the first 4 bytes of a .pyc; checks the ``b"\\r\\n"`` after it.

    Raises :class:`~bytecast.errors.PycFormatError` if there are fewer than 4 bytes or the
    trailer is wrong.
    """
    if len(first4) < 4:
        raise PycFormatError(f"magic is {len(first4)} bytes, expected 4")
    if first4[2:4] != _TRAILER:
        raise PycFormatError(f"bad magic {first4[:4].hex()}: bytes 3 and 4 are not \\r\\n")
    return int.from_bytes(first4[:2], "little")


def parse_query(text: str) -> list[MagicEntry]:
    """The rows a user's query names; an empty list when the query matches nothing known.

    Accepts a number (``"3495"``), the 4 magic bytes in hex (``"a70d0d0a"``), a version
    (``"3.11"``: the minor's release magic(s), e.g. both of 3.5's; ``"3.11.7"``: the magic
    that release writes) or a pre-release tag (``"3.11a1"``: the numbers that first shipped
    in it). Raises :class:`~bytecast.errors.UsageError` for anything else, and for a micro
    version the table proves impossible (``"3.11.99"``, ``"2.7.19"``: :func:`last_possible_micro`).
    """
    import re

    query = text.strip()
    if query.isdigit():
        entry = lookup(int(query))
        return [] if entry is None else [entry]
    hex_match = re.fullmatch(_HEX_MAGIC_RE, query)
    if hex_match is not None:
        entry = lookup(from_bytes(bytes.fromhex(hex_match.group(1))))
        return [] if entry is None else [entry]
    version = re.fullmatch(_VERSION_RE, query)
    if version is not None:
        major, minor, micro = version.groups()
        name = f"{int(major)}.{int(minor)}"
        if micro is None:
            return [e for e in entries() if e.python == name and e.release]
        _check_micro(name, int(micro), query)
        entry = _release_entry(name, int(micro))
        return [] if entry is None else [entry]
    if re.fullmatch(_TAG_RE, query):
        return [e for e in entries() if e.versions.split(_DASH)[0] == query]
    raise UsageError(
        f"{text!r} is not a magic number, a Python version (3.11, 3.11.7) or a .pyc file"
    )
