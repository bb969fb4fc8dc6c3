# lib/malloc/malloc.mk — the malloc replacement, included at the end of the top-level
# Makefile (it uses $(BUILD), $(LIBDIR), $(SHARED_LINK), $(DEPFLAGS), $(INST_LIBDIR) and
# the plain/asan/tsan configurations' variables from there).
#
#   make                         also builds $(BUILD)/lib/libmagslab-malloc.so
#   make install PREFIX=...      also installs it (next to libmagslab.so.0, which it
#                                needs: found through its RUNPATH $ORIGIN)
#   LD_PRELOAD=build/lib/libmagslab-malloc.so CMD     CMD on magslab
#
# Why lib/malloc/ and not lib/src/: every lib/src/*.c goes into libmagslab, and a
# library that defines malloc would replace malloc in every program linking
# magslab.  The shim is its own library on top of libmagslab's public API.
#
# The test programs tests/test_malloc*.c link the same sources built with
# -DMSM_PREFIX=msm_ (msm_malloc, msm_free, ...: shim.h), in every configuration,
# so that the shim runs under ASan and TSan beside their own malloc.
#
# -fno-builtin-*: the compiler must not turn malloc + memset inside calloc into a
# call to calloc (ours: endless recursion), nor assume anything about our free.

MSM_SRCS   := $(sort $(wildcard lib/malloc/*.c))
MSM_HDRS   := $(wildcard lib/malloc/*.h)
MSM_SO     := $(LIBDIR)/libmagslab-malloc.so
MSM_CFLAGS := -fvisibility=hidden -fno-builtin-malloc -fno-builtin-free \
	      -fno-builtin-calloc -fno-builtin-realloc

.PHONY: malloc-shim install-malloc uninstall-malloc
malloc-shim: $(MSM_SO)
lib: $(MSM_SO)
install: install-malloc
uninstall: uninstall-malloc

# $(1) configuration  $(2) object subdirectory  $(3) extra flags  $(4) variable
# that lists the objects
define msm_objs
$(4) := $$(patsubst lib/malloc/%.c,$$($(1)_OBJDIR)/$(2)/%.o,$(MSM_SRCS))

$$($(1)_OBJDIR)/$(2)/%.o: lib/malloc/%.c $$($(1)_STAMP) lib/malloc/malloc.mk
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$< ($(2))"
	@$$($(1)_CC) $$($(1)_CFLAGS) $(MSM_CFLAGS) $(3) $(DEPFLAGS) -c $$< -o $$@

-include $$(wildcard $$($(1)_OBJDIR)/$(2)/*.d)
endef

$(eval $(call msm_objs,plain,malloc,,MSM_SO_OBJS))

$(MSM_SO): $(MSM_SO_OBJS) $(SHARED_LINK)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(plain_CFLAGS) -shared -Wl,-soname,libmagslab-malloc.so -Wl,-z,defs \
		-Wl,-rpath,'$$ORIGIN' -o $@ $(MSM_SO_OBJS) -L$(LIBDIR) -lmagslab -pthread

# Test programs: the msm_-prefixed shim, per configuration.  A static pattern rule:
# it takes precedence over the Makefile's generic test rule for these targets.
MSM_TESTS := $(patsubst tests/%.c,%,$(wildcard tests/test_malloc*.c))

define msm_tests
$(eval $(call msm_objs,$(1),malloc-test,-DMSM_PREFIX=msm_,$(1)_MSMT_OBJS))
$$(addprefix $$($(1)_TESTDIR)/,$(MSM_TESTS)): $$($(1)_TESTDIR)/%: \
		$$($(1)_OBJDIR)/tests/%.o $$($(1)_LIBOBJS) $$($(1)_MSMT_OBJS) | no-sources
	@mkdir -p $$(@D)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $$($(1)_CFLAGS) -o $$@ $$< $$($(1)_MSMT_OBJS) $$($(1)_LIBOBJS) \
		$(TEST_LDLIBS)
endef

$(foreach c,plain asan tsan,$(eval $(call msm_tests,$(c))))

install-malloc: $(MSM_SO)
	install -d $(INST_LIBDIR)
	install -m 755 $(MSM_SO) $(INST_LIBDIR)/

uninstall-malloc:
	rm -f $(INST_LIBDIR)/libmagslab-malloc.so
