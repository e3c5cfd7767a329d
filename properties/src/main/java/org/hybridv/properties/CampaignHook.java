package org.hybridv.properties;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.FixedSeedMode;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyAttributes;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * The jqwik hook through which {@code hybridv check} sets a layer property's seed and tries (registered for every
 * property through {@code META-INF/services}; outside a campaign it does nothing, so {@code mvn verify} runs each
 * property as its annotation says). It sits inside jqwik's statistics hook, so it sees the tries' own result before
 * the coverage floors are checked: a run whose tries passed and whose final result failed missed a floor.
 */
public final class CampaignHook implements AroundPropertyHook {
    /** The campaign in progress, or null (mvn verify). */
    private static volatile Session active;

    /**
     * What a campaign asks of every property it runs, and what the tries did.
     *
     * @param seed   jqwik's seed for every property
     * @param scale  campaign tries per 1,000: a property runs its CI tries × scale / 1000 (at least one)
     */
    record Session(String seed, long scale, Map<Method, PropertyExecutionResult> tries) {
        Session(String seed, long scale) {
            this(seed, scale, new ConcurrentHashMap<>());
        }

        int tries(int ciTries) {
            return scaled(ciTries, scale);
        }
    }

    /** A property's tries in a campaign of {@code campaignTries}: its CI tries × campaignTries / 1000, at least one. */
    static int scaled(int ciTries, long campaignTries) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, ciTries * campaignTries / 1000));
    }

    static void begin(Session s) {
        active = s;
    }

    static void end() {
        active = null;
    }

    /** Registered globally, it must reach every property of every container. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Session s = active;
        if (s == null) {
            return property.execute();
        }
        PropertyAttributes a = context.attributes();
        a.setTries(s.tries(a.tries().orElse(LayerCampaign.DEFAULT_TRIES)));
        a.setSeed(s.seed());
        a.setWhenFixedSeed(FixedSeedMode.ALLOW);
        // never a sample or seed remembered from an earlier failure: the run is a function of the seed alone
        a.setAfterFailure(AfterFailureMode.RANDOM_SEED);
        PropertyExecutionResult r = property.execute();
        s.tries().put(context.targetMethod(), r);
        return r;
    }
}
